package x12

import (
	"math/rand/v2"
	"testing"
)

// TestSplitSimplePlain checks splitSimple's plain flag against plainASCII
// over the bytes it splits: the validator trusts it instead of testing
// each value.
func TestSplitSimplePlain(t *testing.T) {
	d := &Delimiters{Element: '*', Component: '>', Repetition: '^', Segment: "~"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("AB12 *.-\x1f\x7f\x80\xc3\xa9\t\n~")
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = alphabet[rng.IntN(8)]
			}
		}
		comps := make([]string, len(b)+1)
		k, plain, ok := splitSimple(b, string(b), d, comps)
		if !ok {
			t.Fatalf("%q: not simple", b)
		}
		want := true
		for _, v := range comps[:k] {
			want = want && plainASCII(v)
		}
		// plain covers the separators too, which are printable here.
		if plain != want {
			t.Fatalf("%q: plain %v, values plain %v", b, plain, want)
		}
	}
}
