package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReleaseAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"6.1.0-18-amd64", true},
		{"5.8.0", true},
		{"5.10.0-28-amd64", true},
		{"5.7.19", false},
		{"4.19.0-26-amd64", false},
		{"6", false},
		{"", false},
		{"x.y", false},
	}
	for _, tt := range tests {
		if got := releaseAtLeast(tt.release, 5, 8); got != tt.want {
			t.Errorf("releaseAtLeast(%q, 5, 8) = %v, want %v", tt.release, got, tt.want)
		}
	}
}

// TestFSSync: a file written after OpenFSSync is synced without error
// (this kernel is newer than 5.8: the CI machine's is).
func TestFSSync(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	s, err := OpenFSSync(root)
	if err != nil {
		t.Fatalf("OpenFSSync: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("A"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Sync(); err == nil {
		t.Error("Sync after Close succeeded")
	}
}
