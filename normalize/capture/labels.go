package capture

import (
	"strings"
	"unicode"
)

// Header fields the core looks for.
const (
	FieldPONumber       = "po_number"
	FieldPODate         = "po_date"
	FieldCustomerNumber = "customer_number"
	FieldDelivery       = "requested_delivery"
)

// Column kinds of the line table.
const (
	ColPos    = "pos"
	ColItem   = "item"   // our SKU or the customer's part number
	ColGTIN   = "gtin"   // EAN/GTIN
	ColDesc   = "desc"   // description
	ColQty    = "qty"    // quantity
	ColUnit   = "unit"   // unit of measure
	ColPrice  = "price"  // unit price
	ColAmount = "amount" // line total
)

// labelKey is the comparable form of a label: lower case letters and
// digits only, umlauts kept.
func labelKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// headerLabels are the label keys of each header field, German and
// English, as labelKey writes them.
var headerLabels = map[string][]string{
	FieldPONumber: {"bestellnummer", "bestellnr", "bestellungnr", "bestellnummerpo", "auftragsnummer", "auftragsnr",
		"ponumber", "pono", "po", "ponr", "purchaseorderno", "purchaseordernumber", "ordernumber", "orderno", "ordernr",
		"unserebestellnummer", "unserebestellnr", "ihreauftragsnr", "bestellnrpono"},
	FieldPODate: {"datum", "bestelldatum", "date", "orderdate", "podate", "belegdatum", "vom"},
	FieldCustomerNumber: {"kundennr", "kundennummer", "kdnr", "kdnummer", "customerno", "customernumber", "customerid", "accountno",
		"accountnumber", "account", "ihrekundennr", "unserekundennr", "kundennrcustomerno", "custno"},
	FieldDelivery: {"liefertermin", "lieferdatum", "wunschtermin", "deliverydate", "requesteddelivery", "deliveryby", "delivery",
		"gewünschterliefertermin", "lieferungbis", "requesteddeliverydate", "shipdate"},
}

// columnLabels are the label keys of the table columns.
var columnLabels = map[string][]string{
	ColPos: {"pos", "position", "nr", "no", "lfdnr", "line", "zeile", "posnr"},
	ColItem: {"artikel", "artikelnr", "artnr", "artikelnummer", "sku", "item", "itemno", "itemnumber", "itemcode", "partno",
		"partnumber", "article", "articleno", "code", "bestellnr", "materialnr", "material", "ihreartnr", "unsereartnr", "kundenartnr", "yourpartno", "ourpartno"},
	ColGTIN:   {"ean", "gtin", "eannr", "eancode", "barcode"},
	ColDesc:   {"bezeichnung", "beschreibung", "artikelbezeichnung", "description", "text", "produkt", "product", "leistung", "name", "itemdescription"},
	ColQty:    {"menge", "anzahl", "qty", "oty", "qtv", "gty", "aty", "qly", "gly", "quantity", "stückzahl", "bestellmenge", "quant"},
	ColUnit:   {"einheit", "me", "unit", "uom", "vpe", "mengeneinheit", "units"},
	ColPrice:  {"preis", "einzelpreis", "epreis", "stückpreis", "unitprice", "price", "priceeach", "each", "listprice", "nettopreis"},
	ColAmount: {"betrag", "gesamt", "gesamtpreis", "gpreis", "summe", "total", "amount", "linetotal", "wert", "extended", "nettobetrag", "gesamtbetrag"},
}

// totalLabels start the line of the document total.
var totalLabels = []string{"summe", "gesamtsumme", "gesamtbetrag", "endsumme", "total", "ordertotal", "grandtotal", "totalnet",
	"nettosumme", "summenetto", "gesamtsummenetto", "gesamtnetto", "totalamount", "zwischensumme", "subtotal", "warenwert", "nettowarenwert"}

// phoneLabels precede the sender's phone or fax number.
var phoneLabels = []string{"tel", "telefon", "fax", "telefax", "phone", "from", "von", "absender", "sender"}

// editDistance is the Levenshtein distance of a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// matchLabel reports whether key is one of labels, allowing one OCR slip
// in labels of five or more letters. It returns how well (1 exact, 0.8
// with a slip).
func matchLabel(key string, labels []string) (float64, bool) {
	if key == "" {
		return 0, false
	}
	best := 0.0
	for _, l := range labels {
		if key == l {
			return 1, true
		}
		if len(l) >= 5 && abs(len(l)-len(key)) <= 1 && editDistance(key, l) <= 1 {
			best = 0.8
		}
	}
	return best, best > 0
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
