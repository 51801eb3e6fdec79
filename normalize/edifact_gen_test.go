package normalize

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

var (
	genItems = []string{"Holzschraube 4?:40 ?? verzinkt", "Sechskantschraube M8?+Mutter", "Unterlegscheibe 8 mm", "Bohrer 6 mm HSS",
		"D\xfcbel 8 mm ?'Profi?'", "Scharnier 80 mm Messing"}
	genUnits = []string{"PCE", "PK", "BX", "C62"}
)

// genEDIFACTOrders (a copy of internal/tools/ediload's genEDIFACT) writes n ORDERS D96A (EAN008) messages of lines lines each
// in UNOC (ISO 8859-1) with the default separators and a line break after
// each segment. Names, notes and descriptions carry released characters
// (?+ ?: ?' ??) and Latin-1 umlauts. A new interchange starts every
// 100,000 messages so UNZ counts stay small. Every message passes the
// edi/edifact checks and maps to an order.
func genEDIFACTOrders(w io.Writer, n, lines int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xED1FAC7))
	base := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	var err error
	segs := 0
	p := func(s string) {
		segs++
		if err == nil {
			_, err = io.WriteString(w, s+"'\n")
		}
	}
	const perInterchange = 100_000
	for ic, done := 1, 0; done < n; ic++ {
		ref := fmt.Sprintf("IC%08d", ic)
		p("UNB+UNOC:3+4000000000002:14+4000000000001:14+" + base.Format("060102:1504") + "+" + ref + "++ORDERS")
		count := 0
		for ; count < perInterchange && done < n; count++ {
			done++
			segs = 0
			msg := strconv.Itoa(count + 1)
			date := base.AddDate(0, 0, done%28)
			p("UNH+" + msg + "+ORDERS:D:96A:UN:EAN008")
			p(fmt.Sprintf("BGM+220+PO%010d+9", done))
			p("DTM+137:" + date.Format("20060102") + ":102")
			p("DTM+2:" + date.AddDate(0, 0, 14).Format("20060102") + ":102")
			p("FTX+AAI+++Bitte an Rampe 3?: ab 7 Uhr anliefern?' Danke")
			p(fmt.Sprintf("RFF+CT:K-%04d", rng.IntN(10000)))
			p("NAD+BY+4000000000002::9++Baumarkt Nord ?+ Co. KG+Lagerstra\xdfe 5+Hamburg++20457+DE")
			p(fmt.Sprintf("NAD+DP+%s::9++Lager S\xfcd %d+Industrieweg 12+M\xfcnchen++80331+DE", genGTIN(400000100000+int64(rng.IntN(1000))), rng.IntN(100)))
			p("NAD+SU+4000000000001::9")
			p("CUX+2:EUR:9")
			var total int64
			for i := 1; i <= lines; i++ {
				k := rng.IntN(len(genItems))
				qty := int64(1 + rng.IntN(500))
				cents := int64(5 + rng.IntN(99995))
				amount := qty * cents
				total += amount
				p(fmt.Sprintf("LIN+%d++%s:EN", i, genGTIN(400100000000+int64(k*1000+rng.IntN(1000)))))
				p(fmt.Sprintf("PIA+5+SCR-%03d:SA+BN-%05d:BP", k, rng.IntN(100000)))
				p("IMD+F++:::" + genItems[k])
				p(fmt.Sprintf("QTY+21:%d:%s", qty, genUnits[k%len(genUnits)]))
				p("MOA+203:" + genMoney(amount))
				p("PRI+AAA:" + genMoney(cents))
			}
			p("UNS+S")
			p("MOA+79:" + genMoney(total))
			p(fmt.Sprintf("CNT+2:%d", lines))
			p(fmt.Sprintf("UNT+%d+%s", segs+1, msg))
		}
		p(fmt.Sprintf("UNZ+%d+%s", count, ref))
	}
	return err
}

// money renders cents as a decimal with two places.
func genMoney(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// gtin13 appends the GS1 check digit to a 12-digit number.
func genGTIN(n int64) string {
	s := fmt.Sprintf("%012d", n%1_000_000_000_000)
	sum := 0
	for i := 0; i < 12; i++ {
		d := int(s[i] - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return s + strconv.Itoa((10-sum%10)%10)
}
