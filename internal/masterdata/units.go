package masterdata

// Our unit codes, the ones products are kept in. Partners send UN/ECE
// Recommendation 20 codes (EDIFACT QTY 6411: PCE, C62, KGM, MTR, ...) or
// X12 unit codes (PO103, element 355: EA, CA, BX, LB, FT, ...); a few
// codes mean different things in the two lists, so the table is picked by
// the order's standard. A partner's own codes go in unit xrefs, which win
// over these tables.
var ourUnits = map[string]string{
	"EA":  "each (piece)",
	"PR":  "pair",
	"DZ":  "dozen",
	"SET": "set",
	"BX":  "box",
	"PK":  "pack",
	"CA":  "case",
	"CT":  "carton",
	"BG":  "bag",
	"RL":  "roll",
	"PL":  "pallet",
	"G":   "gram",
	"KG":  "kilogram",
	"T":   "tonne",
	"LB":  "pound",
	"MM":  "millimetre",
	"CM":  "centimetre",
	"M":   "metre",
	"IN":  "inch",
	"FT":  "foot",
	"M2":  "square metre",
	"M3":  "cubic metre",
	"ML":  "millilitre",
	"L":   "litre",
}

// rec20Units maps UN/ECE Recommendation 20 (and the Rec 21 package codes
// EDIFACT senders use in QTY) to ours.
var rec20Units = map[string]string{
	"C62": "EA", // one
	"EA":  "EA", // each
	"PCE": "EA", // piece
	"H87": "EA", // piece
	"NAR": "EA", // number of articles
	"PR":  "PR", // pair
	"DZN": "DZ", // dozen
	"SET": "SET",
	"BX":  "BX", // box
	"PK":  "PK", // pack
	"PA":  "PK", // packet
	"CS":  "CA", // case
	"CT":  "CT", // carton
	"BG":  "BG", // bag
	"RO":  "RL", // roll
	"PF":  "PL", // pallet (lift)
	"PX":  "PL", // pallet
	"GRM": "G",
	"KGM": "KG",
	"TNE": "T",
	"LBR": "LB",
	"MMT": "MM",
	"CMT": "CM",
	"MTR": "M",
	"INH": "IN",
	"FOT": "FT",
	"MTK": "M2",
	"MTQ": "M3",
	"MLT": "ML",
	"LTR": "L",
}

// x12Units maps X12 unit or basis of measurement codes (element 355) to
// ours.
var x12Units = map[string]string{
	"EA": "EA", // each
	"PC": "EA", // piece
	"UN": "EA", // unit
	"PR": "PR", // pair
	"DZ": "DZ", // dozen
	"BX": "BX", // box
	"PK": "PK", // package
	"CA": "CA", // case
	"CT": "CT", // carton
	"BG": "BG", // bag
	"RL": "RL", // roll
	"PL": "PL", // pallet/unit load
	"GR": "G",  // gram
	"KG": "KG", // kilogram
	"LB": "LB", // pound
	"MM": "MM", // millimeter
	"CM": "CM", // centimeter
	"MR": "M",  // meter
	"IN": "IN", // inch
	"FT": "FT", // foot
	"SM": "M2", // square meter
	"CR": "M3", // cubic meter
	"ML": "ML", // milliliter
	"LT": "L",  // liter
}

// StandardUnit maps a unit code as the standard ("X12", "EDIFACT", or
// anything else for our own channels) writes it to our code. X12 orders
// look in the X12 table first, EDIFACT orders in Rec 20; our own codes
// are accepted from every channel after the standard's table.
func StandardUnit(standard, code string) (string, bool) {
	var tables []map[string]string
	switch standard {
	case "X12":
		tables = []map[string]string{x12Units, identity, rec20Units}
	case "EDIFACT":
		tables = []map[string]string{rec20Units, identity, x12Units}
	default:
		tables = []map[string]string{identity, rec20Units, x12Units}
	}
	for _, t := range tables {
		if u, ok := t[code]; ok {
			return u, true
		}
	}
	return "", false
}

// identity maps each of our codes to itself.
var identity = func() map[string]string {
	m := make(map[string]string, len(ourUnits))
	for u := range ourUnits {
		m[u] = u
	}
	return m
}()

// UnitName returns what one of our unit codes means ("" when it is not
// ours).
func UnitName(code string) string { return ourUnits[code] }
