package ocr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/normalize/capture"
)

// ParseTSV reads tesseract's TSV output into the words of page, with
// boxes in the pixels of the recognised image and confidences in 0..1.
func ParseTSV(tsv []byte, page int) ([]capture.Word, error) {
	var out []capture.Word
	sc := bufio.NewScanner(bytes.NewReader(tsv))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if strings.HasPrefix(line, "level") {
				continue
			}
		}
		f := strings.Split(line, "\t")
		if len(f) < 12 {
			if strings.TrimSpace(line) == "" {
				continue
			}
			return nil, fmt.Errorf("tesseract TSV: %d fields in %q", len(f), line)
		}
		if f[0] != "5" {
			continue
		}
		text := strings.TrimSpace(f[11])
		if text == "" {
			continue
		}
		nums := make([]float64, 5)
		for i, s := range []string{f[6], f[7], f[8], f[9], f[10]} {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("tesseract TSV: %q: %w", line, err)
			}
			nums[i] = v
		}
		conf := nums[4] / 100
		if conf < 0 {
			conf = 0
		}
		out = append(out, capture.Word{Text: text, Page: page, X: nums[0], Y: nums[1], W: nums[2], H: nums[3], Conf: conf})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading tesseract TSV: %w", err)
	}
	return out, nil
}

// PageResult is one recognised page with what it took.
type PageResult struct {
	TSV     []byte // tesseract's output, for caches
	Width   int
	Height  int
	Skew    float64 // degrees corrected
	Mode    string  // fine | standard | "" (not a fax image)
	Elapsed time.Duration
}

// Recognition is a recognised PDF.
type Recognition struct {
	Doc   *capture.Document
	Pages []PageResult
}

// MinTextLayerWords is how many words a text layer needs for the PDF to
// count as text rather than a scan.
const MinTextLayerWords = 10

// Recognize reads a PDF: its text layer when it has one, else OCR of
// every page.
func (r *Runner) Recognize(ctx context.Context, pdf []byte) (*Recognition, error) {
	dir, done, err := r.stage(pdf)
	if err != nil {
		return nil, err
	}
	defer done()
	info, err := r.info(ctx, dir)
	if err != nil {
		return nil, err
	}
	tl, err := r.textLayer(ctx, dir)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, p := range tl.Pages {
		n += len(p.Words)
	}
	if n >= MinTextLayerWords {
		return &Recognition{Doc: tl}, nil
	}
	imgs, err := r.rasterize(ctx, dir, info.Pages)
	if err != nil {
		return nil, err
	}
	modes := make([]string, len(imgs))
	for i := range imgs {
		modes[i] = info.FaxMode(i + 1)
	}
	return r.recognizePages(ctx, dir, imgs, modes)
}

// recognizePages cleans up and recognises page images (300 dpi, grey) in
// dir.
func (r *Runner) recognizePages(ctx context.Context, dir string, imgs []*image.Gray, modes []string) (*Recognition, error) {
	rec := &Recognition{Doc: &capture.Document{Kind: capture.KindOCR}}
	for i, img := range imgs {
		start := time.Now()
		b, skew := Clean(img)
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, b.Gray()); err != nil {
			return nil, fmt.Errorf("encoding page %d: %w", i+1, err)
		}
		name := fmt.Sprintf("clean-%d.png", i+1)
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o600); err != nil {
			return nil, fmt.Errorf("writing page %d: %w", i+1, err)
		}
		tsv, err := r.run(ctx, dir, nil, "tesseract", name, "stdout", "-l", r.lang, "--psm", "6", "--dpi", "300", "tsv")
		if err != nil {
			return nil, fmt.Errorf("recognising page %d: %w", i+1, err)
		}
		words, err := ParseTSV(tsv, i+1)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		rec.Doc.Pages = append(rec.Doc.Pages, capture.Page{Number: i + 1, Width: float64(b.W), Height: float64(b.H), Words: words})
		rec.Pages = append(rec.Pages, PageResult{TSV: tsv, Width: b.W, Height: b.H, Skew: skew, Mode: modes[i], Elapsed: time.Since(start)})
	}
	return rec, nil
}
