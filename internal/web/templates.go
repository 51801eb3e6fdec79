package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/govalues/decimal"
)

var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"dec":     decString,
	"decimal": func(d decimal.Decimal) string { return d.String() },
	"numbers": sortedNumbers,
	"join":    strings.Join,
	"inc":     func(i int) int { return i + 1 },
	"pct":     func(x float64) string { return fmt.Sprintf("%.0f%%", x*100) },
}

// parseTemplates parses each page together with the layout.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: listing templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("web: parsing %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}
