package masterdata

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// FuzzImport feeds arbitrary files of every kind to Import: it must never
// panic nor fail (a file's problems are line errors), and every line error
// must name a line of the input.
func FuzzImport(f *testing.F) {
	f.Add(uint8(1), []byte("sku,description,base_unit,gtin,pack_sizes,min_order_qty\nA,Alpha,EA,012345678905,BX=10,1\n"))
	f.Add(uint8(0), []byte("number,name,currency,ship_to\nC-1,Acme,EUR,S1\nC-1,Acme,EUR,S2\n"))
	f.Add(uint8(2), []byte("sku,price,currency,min_qty\nA,\"1.260,00\",EUR,0\n"))
	f.Add(uint8(3), []byte("type,partner_code,unit\nunit,PCE,EA\n"))
	st := openStore(f)
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		kind := Kinds[int(k)%len(Kinds)]
		rep, err := Import(context.Background(), st, kind, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Import(%s): %v", kind, err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range rep.Errors {
			if e.Line < 1 || e.Line > lines || e.Reason == "" {
				t.Errorf("error %q: line %d not in 1..%d or no reason", e.Error(), e.Line, lines)
			}
			if !strings.Contains(rep.String(), fmt.Sprintf("-:%d: ", e.Line)) {
				t.Errorf("report does not list %q", e.Error())
			}
		}
		if rep.Inserted+rep.Updated+rep.Unchanged > 0 && rep.Lines == 0 {
			t.Errorf("rows counted without data lines: %+v", rep)
		}
	})
}
