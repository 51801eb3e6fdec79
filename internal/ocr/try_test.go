package ocr

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestTry(t *testing.T) {
	f := os.Getenv("OCR_TRY")
	if f == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(f)
	r := New(Options{})
	start := time.Now()
	rec, err := r.Recognize(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("elapsed", time.Since(start), rec.Doc.Kind)
	for _, p := range rec.Pages {
		fmt.Println(p.Mode, p.Skew, p.Elapsed)
	}
	for _, w := range rec.Doc.Pages[0].Words {
		fmt.Printf("%s(%.0f) ", w.Text, w.Conf*100)
	}
	fmt.Println()
}
