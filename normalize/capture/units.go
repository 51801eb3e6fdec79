package capture

// unitSynonyms maps how senders write units (as labelKey has them) to our
// unit codes (UN/ECE rec 20 style codes as the item master uses them).
var unitSynonyms = map[string]string{
	"ea": "EA", "stk": "EA", "st": "EA", "stck": "EA", "stück": "EA", "stueck": "EA", "pcs": "EA", "pc": "EA", "pce": "EA",
	"each": "EA", "piece": "EA", "pieces": "EA", "c62": "EA", "h87": "EA", "x": "EA",
	"ct": "CT", "ktn": "CT", "karton": "CT", "kt": "CT", "carton": "CT", "cartons": "CT", "ctn": "CT",
	"ca": "CA", "case": "CA", "cases": "CA", "kiste": "CA",
	"bx": "BX", "box": "BX", "boxes": "BX", "schachtel": "BX", "pak": "BX", "pack": "BX", "pkg": "BX",
	"m": "M", "mtr": "M", "meter": "M", "metre": "M", "mtrs": "M",
	"rl": "RL", "rolle": "RL", "roll": "RL", "rolls": "RL", "rollen": "RL",
	"pl": "PL", "pal": "PL", "palette": "PL", "pallet": "PL",
	"kg": "KG", "kilogramm": "KG", "l": "L", "liter": "L", "litre": "L", "set": "SET", "pa": "PA", "paar": "PA", "pair": "PA",
	"rl100": "RL100",
}

// UnitCode returns our unit code for a unit as written, and false when the
// spelling is unknown.
func UnitCode(s string) (string, bool) {
	u, ok := unitSynonyms[labelKey(s)]
	return u, ok
}

// unitNear returns the unit code of the known spelling one edit away from
// s (an OCR slip: "pes" for "pcs"), when exactly one code is that close.
func unitNear(s string) (string, bool) {
	k := labelKey(s)
	if len([]rune(k)) < 3 {
		return "", false
	}
	found := ""
	for spelling, code := range unitSynonyms {
		if len([]rune(spelling)) >= 3 && editDistance(k, spelling) == 1 {
			if found != "" && found != code {
				return "", false
			}
			found = code
		}
	}
	return found, found != ""
}
