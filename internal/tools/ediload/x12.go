package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

var (
	x12Cities = []struct{ city, state, zip string }{
		{"SPRINGFIELD", "IL", "62701"}, {"COLUMBUS", "OH", "43215"}, {"AUSTIN", "TX", "73301"},
		{"DENVER", "CO", "80202"}, {"PORTLAND", "OR", "97201"}, {"ALBANY", "NY", "12207"},
	}
	x12Units = []string{"EA", "CA", "BX", "DZ", "PK"}
	x12Items = []string{"WOOD SCREWS 4X40", "HEX BOLT M8", "WASHER 8MM", "DRILL BIT 6MM", "ANCHOR PLUG 8MM", "HINGE 80MM BRASS"}
)

// genX12 writes n 850 purchase orders of lines lines each, in 4010 with
// the separators * > ~ and a line break after each segment.
func genX12(w io.Writer, n, lines int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x850))
	base := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format+"~\n", args...)
		}
	}
	const setsPerGroup, groupsPerInterchange = 10000, 100
	set, group, ic := 0, 0, 0
	for set < n {
		ic++
		p("ISA*00*          *00*          *ZZ*%-15s*ZZ*%-15s*%s*%s*U*00401*%09d*0*P*>",
			"BUYERCO", "SUPPLIERCO", base.Format("060102"), base.Format("1504"), ic)
		groups := 0
		for groups < groupsPerInterchange && set < n {
			group++
			groups++
			p("GS*PO*BUYERCO*SUPPLIERCO*%s*%s*%d*X*004010", base.Format("20060102"), base.Format("1504"), group)
			sets := 0
			for sets < setsPerGroup && set < n {
				set++
				sets++
				writeX12Order(p, rng, set, lines, base)
			}
			p("GE*%d*%d", sets, group)
		}
		p("IEA*%d*%09d", groups, ic)
	}
	return err
}

func writeX12Order(p func(string, ...any), rng *rand.Rand, set, lines int, base time.Time) {
	segs := 0
	q := func(format string, args ...any) { segs++; p(format, args...) }
	ctl := fmt.Sprintf("%04d", set%10000)
	q("ST*850*%s", ctl)
	date := base.AddDate(0, 0, -rng.IntN(30))
	q("BEG*00*SA*PO%08d**%s", set, date.Format("20060102"))
	q("CUR*BY*USD")
	q("REF*DP*%03d", rng.IntN(1000))
	q("DTM*002*%s", date.AddDate(0, 0, 7+rng.IntN(21)).Format("20060102"))
	c := x12Cities[rng.IntN(len(x12Cities))]
	q("N1*ST*STORE %04d*92*ST%05d", rng.IntN(10000), rng.IntN(100000))
	q("N3*%d MAIN STREET", 1+rng.IntN(9999))
	q("N4*%s*%s*%s*US", c.city, c.state, c.zip)
	q("N1*BY*BUYERCO INC*UL*%013d", 4000000000000+rng.Int64N(1000000000))
	var total int64 // cents
	var hash int64
	for l := 1; l <= lines; l++ {
		qty := 1 + rng.Int64N(500)
		price := 50 + rng.Int64N(20000) // cents
		total += qty * price
		hash += qty
		q("PO1*%d*%d*%s*%d.%02d*PE*BP*BN-%06d*VP*SUP-%06d*UP*%012d", l, qty, x12Units[rng.IntN(len(x12Units))],
			price/100, price%100, rng.IntN(1000000), rng.IntN(1000000), rng.Int64N(1000000000000))
		q("PID*F****%s", x12Items[rng.IntN(len(x12Items))])
	}
	q("CTT*%d*%d", lines, hash)
	q("AMT*TT*%d.%02d", total/100, total%100)
	p("SE*%d*%s", segs+1, ctl)
}
