package capture

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ordergate/ordergate/internal/ocr"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
)

// ErrCacheMiss means a read-only Cache has no entry for a PDF.
var ErrCacheMiss = errors.New("not in the OCR cache")

// Cache keeps the OCR output of PDFs in a directory, one JSON file per
// PDF named by its SHA-256: the page sizes and tesseract's TSV (or the
// text layer's words). With a nil Next it is read-only and a miss is
// ErrCacheMiss; otherwise a miss runs Next and stores the result.
type Cache struct {
	Dir  string
	Next Recognizer
}

type cacheEntry struct {
	Kind  ncapture.Kind `json:"kind"`
	Pages []cachePage   `json:"pages"`
}

type cachePage struct {
	Width  float64         `json:"width"`
	Height float64         `json:"height"`
	Mode   string          `json:"mode,omitempty"`
	Skew   float64         `json:"skew,omitempty"`
	TSV    string          `json:"tsv,omitempty"`   // OCR pages
	Words  []ncapture.Word `json:"words,omitempty"` // text-layer pages
}

// Key returns the cache key of a PDF.
func Key(pdf []byte) string {
	s := sha256.Sum256(pdf)
	return hex.EncodeToString(s[:])
}

// Lookup returns the cached recognition of the PDF with the given key
// (Key), or ErrCacheMiss.
func (c *Cache) Lookup(key string) (*ocr.Recognition, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, key+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrCacheMiss, key)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the OCR cache: %w", err)
	}
	return decodeEntry(b)
}

// Recognize returns the cached recognition of pdf, running Next on a miss.
func (c *Cache) Recognize(ctx context.Context, pdf []byte) (*ocr.Recognition, error) {
	path := filepath.Join(c.Dir, Key(pdf)+".json")
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeEntry(b)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the OCR cache: %w", err)
	}
	if c.Next == nil {
		return nil, fmt.Errorf("%w: %s", ErrCacheMiss, filepath.Base(path))
	}
	rec, err := c.Next.Recognize(ctx, pdf)
	if err != nil {
		return nil, err
	}
	e := cacheEntry{Kind: rec.Doc.Kind}
	for i, p := range rec.Doc.Pages {
		cp := cachePage{Width: p.Width, Height: p.Height}
		if rec.Doc.Kind == ncapture.KindOCR && i < len(rec.Pages) {
			cp.TSV, cp.Mode, cp.Skew = string(rec.Pages[i].TSV), rec.Pages[i].Mode, rec.Pages[i].Skew
		} else {
			cp.Words = p.Words
		}
		e.Pages = append(e.Pages, cp)
	}
	out, err := json.MarshalIndent(e, "", " ")
	if err != nil {
		return nil, fmt.Errorf("writing the OCR cache: %w", err)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing the OCR cache: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return nil, fmt.Errorf("writing the OCR cache: %w", err)
	}
	return rec, nil
}

func decodeEntry(b []byte) (*ocr.Recognition, error) {
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("reading the OCR cache: %w", err)
	}
	rec := &ocr.Recognition{Doc: &ncapture.Document{Kind: e.Kind}}
	for i, p := range e.Pages {
		pg := ncapture.Page{Number: i + 1, Width: p.Width, Height: p.Height, Words: p.Words}
		if e.Kind == ncapture.KindOCR {
			ws, err := ocr.ParseTSV([]byte(p.TSV), i+1)
			if err != nil {
				return nil, fmt.Errorf("reading the OCR cache: %w", err)
			}
			pg.Words = ws
			rec.Pages = append(rec.Pages, ocr.PageResult{TSV: []byte(p.TSV), Width: int(p.Width), Height: int(p.Height), Mode: p.Mode, Skew: p.Skew})
		}
		rec.Doc.Pages = append(rec.Doc.Pages, pg)
	}
	return rec, nil
}
