package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ncapture "github.com/ordergate/ordergate/normalize/capture"
)

// KindForFile returns the input kind for a file name by its extension:
// .pdf, .tif, .tiff, .png (a fax as an image), .csv, .txt; false for others (.eml and .xlsx are read by
// normalize/mail, whose parts then come here as text, PDF or rows).
func KindForFile(name string) (InputKind, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pdf":
		return InputPDF, true
	case ".tif", ".tiff", ".png":
		return InputImage, true
	case ".csv":
		return InputCSV, true
	case ".txt":
		return InputText, true
	}
	return "", false
}

// LoadProfiles reads a profiles YAML file (see ncapture.Profiles).
func LoadProfiles(path string) (*ncapture.Profiles, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading capture profiles: %w", err)
	}
	defer f.Close()
	ps, err := ncapture.ParseProfiles(f)
	if err != nil {
		return nil, fmt.Errorf("loading capture profiles %s: %w", path, err)
	}
	return ps, nil
}
