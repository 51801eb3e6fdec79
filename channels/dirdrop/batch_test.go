package dirdrop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
)

func TestOutboxWriteBatch(t *testing.T) {
	errDisk := errors.New("disk full")
	type want struct {
		created bool
		err     error // errors.Is; nil for success
	}
	tests := []struct {
		name     string
		before   map[string]string // files in the outbox before
		files    []channels.OutFile
		failPart string // the file whose .part fails
		want     []want
		after    map[string]string // the outbox's files after
	}{
		{
			name:  "all new",
			files: []channels.OutFile{{Name: "a.x12", Body: []byte("A")}, {Name: "b.x12", Body: []byte("B")}, {Name: "c.edi", Body: []byte("C")}},
			want:  []want{{true, nil}, {true, nil}, {true, nil}},
			after: map[string]string{"a.x12": "A", "b.x12": "B", "c.edi": "C"},
		},
		{
			name:   "resent after a crash between write and record replaces nothing",
			before: map[string]string{"a.x12": "A", "b.x12": "B"},
			files:  []channels.OutFile{{Name: "a.x12", Body: []byte("A")}, {Name: "b.x12", Body: []byte("B")}, {Name: "c.x12", Body: []byte("C")}},
			want:   []want{{false, nil}, {false, nil}, {true, nil}},
			after:  map[string]string{"a.x12": "A", "b.x12": "B", "c.x12": "C"},
		},
		{
			name:   "other content under a name conflicts, the others are written",
			before: map[string]string{"b.x12": "older"},
			files:  []channels.OutFile{{Name: "a.x12", Body: []byte("A")}, {Name: "b.x12", Body: []byte("B")}, {Name: "c.x12", Body: []byte("C")}},
			want:   []want{{true, nil}, {false, ErrConflict}, {true, nil}},
			after:  map[string]string{"a.x12": "A", "b.x12": "older", "c.x12": "C"},
		},
		{
			name:     "one file failing leaves the others written",
			files:    []channels.OutFile{{Name: "a.x12", Body: []byte("A")}, {Name: "b.x12", Body: []byte("B")}, {Name: "c.x12", Body: []byte("C")}},
			failPart: "b.x12",
			want:     []want{{true, nil}, {false, errDisk}, {true, nil}},
			after:    map[string]string{"a.x12": "A", "c.x12": "C"},
		},
		{
			name:   "a stale .part of a crash is written over",
			before: map[string]string{"a.x12.part": "stale"},
			files:  []channels.OutFile{{Name: "a.x12", Body: []byte("A")}},
			want:   []want{{true, nil}},
			after:  map[string]string{"a.x12": "A"},
		},
		{
			name:  "an unsafe name fails alone",
			files: []channels.OutFile{{Name: "../a.x12", Body: []byte("A")}, {Name: "b.x12", Body: []byte("B")}},
			want:  []want{{false, channels.ErrInvalidName}, {true, nil}},
			after: map[string]string{"b.x12": "B"},
		},
		{
			name:  "a name twice in a batch",
			files: []channels.OutFile{{Name: "a.x12", Body: []byte("A")}, {Name: "a.x12", Body: []byte("A")}, {Name: "a.x12", Body: []byte("other")}},
			want:  []want{{true, nil}, {false, nil}, {false, ErrConflict}},
			after: map[string]string{"a.x12": "A"},
		},
		{
			name: "empty batch",
		},
	}
	// Each case runs with an fsync of each file and with one sync of the
	// file system for the batch.
	modes := []struct {
		name    string
		fsBatch int
	}{
		{"fsync each", 1 << 30},
		{"syncfs", 1},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				for name, body := range tt.before {
					write(t, filepath.Join(dir, name), body, time.Time{})
				}
				o := &Outbox{Dir: dir, fsBatch: mode.fsBatch}
				fsSyncs := 0
				o.syncFS = func(sync func() error) error {
					fsSyncs++
					return sync()
				}
				if tt.failPart != "" {
					o.failPart = func(name string) error {
						if name == tt.failPart {
							return errDisk
						}
						return nil
					}
				}
				res := o.WriteBatch(context.Background(), tt.files)
				if len(res) != len(tt.files) {
					t.Fatalf("results = %d, want %d", len(res), len(tt.files))
				}
				wantSyncs := 0
				for i, w := range tt.want {
					got := res[i]
					if got.Created != w.created || (w.err == nil) != (got.Err == nil) || (w.err != nil && !errors.Is(got.Err, w.err)) {
						t.Errorf("file %d (%s) = {created %v, err %v}, want {created %v, err %v}", i, tt.files[i].Name, got.Created, got.Err, w.created, w.err)
					}
					if w.created && mode.fsBatch == 1 {
						wantSyncs = 1
					}
				}
				if fsSyncs != wantSyncs {
					t.Errorf("syncs of the file system = %d, want %d", fsSyncs, wantSyncs)
				}
				if got, want := contents(t, dir), tt.after; !maps.Equal(got, want) {
					t.Errorf("outbox = %v, want %v", got, want)
				}
			})
		}
	}
}

// TestOutboxFSSyncFails: when the sync of the file system fails, every
// new file of the batch fails with it and leaves no .part; a file that
// was there is found as before, and the next batch writes the others.
func TestOutboxFSSyncFails(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "f00.x12"), "0", time.Time{})
	var files []channels.OutFile
	for i := range 12 {
		files = append(files, channels.OutFile{Name: fmt.Sprintf("f%02d.x12", i), Body: []byte(strconv.Itoa(i))})
	}
	errIO := errors.New("input/output error")
	o := &Outbox{Dir: dir}
	o.syncFS = func(func() error) error { return errIO }
	res := o.WriteBatch(context.Background(), files)
	if res[0] != (WriteResult{}) {
		t.Errorf("the file that was there = %+v, want found", res[0])
	}
	for i, r := range res[1:] {
		if r.Created || !errors.Is(r.Err, errIO) {
			t.Errorf("file %d = %+v, want the sync's error", i+1, r)
		}
	}
	if got, want := contents(t, dir), map[string]string{"f00.x12": "0"}; !maps.Equal(got, want) {
		t.Errorf("outbox after the failed sync = %v, want %v", got, want)
	}
	o.syncFS = nil
	for i, r := range o.WriteBatch(context.Background(), files) {
		if r.Err != nil || r.Created != (i > 0) {
			t.Errorf("file %d on the second batch = %+v, want created (found for the first)", i, r)
		}
	}
	if got := len(contents(t, dir)); got != len(files) {
		t.Errorf("outbox has %d files, want %d", got, len(files))
	}
}

// TestOutboxBatchRetry: a file that failed in one batch goes out with the
// next, and the files of the first batch sent again are left as they were.
func TestOutboxBatchRetry(t *testing.T) {
	dir := t.TempDir()
	o := &Outbox{Dir: dir}
	fail := true
	o.failPart = func(name string) error {
		if fail && name == "b.x12" {
			return errors.New("disk full")
		}
		return nil
	}
	files := []channels.OutFile{{Name: "a.x12", Body: []byte("A")}, {Name: "b.x12", Body: []byte("B")}}
	ctx := context.Background()
	if errs := o.SendBatch(ctx, files); errs[0] != nil || errs[1] == nil {
		t.Fatalf("first SendBatch = %v, want a written and b failed", errs)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "a.x12"), old, old); err != nil {
		t.Fatal(err)
	}
	fail = false
	res := o.WriteBatch(ctx, files)
	if res[0] != (WriteResult{}) || res[1] != (WriteResult{Created: true}) {
		t.Fatalf("second WriteBatch = %+v, want a found and b created", res)
	}
	if info, err := os.Stat(filepath.Join(dir, "a.x12")); err != nil || !info.ModTime().Equal(old) {
		t.Errorf("a.x12 was touched by the resend: %v, %v", info, err)
	}
	if got, want := contents(t, dir), map[string]string{"a.x12": "A", "b.x12": "B"}; !maps.Equal(got, want) {
		t.Errorf("outbox = %v, want %v", got, want)
	}
}

// TestOutboxBatchesInParallel: batches with overlapping names, in
// opposite orders, neither deadlock nor write a name twice.
func TestOutboxBatchesInParallel(t *testing.T) {
	dir := t.TempDir()
	o := &Outbox{Dir: dir}
	var files []channels.OutFile
	for i := range 20 {
		files = append(files, channels.OutFile{Name: fmt.Sprintf("f%02d.x12", i), Body: []byte{byte(i)}})
	}
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created := make(chan int, 8)
	for _, batch := range [][]channels.OutFile{files, reversed, files, reversed} {
		go func() {
			n := 0
			for _, r := range o.WriteBatch(ctx, batch) {
				if r.Err != nil {
					t.Error(r.Err)
				}
				if r.Created {
					n++
				}
			}
			created <- n
		}()
	}
	total := 0
	for range 4 {
		total += <-created
	}
	if total != len(files) {
		t.Errorf("files created = %d, want %d (each once)", total, len(files))
	}
	if got := len(contents(t, dir)); got != len(files) {
		t.Errorf("outbox has %d files, want %d", got, len(files))
	}
}

// TestAcksShareFolderSyncs: acks in a SyncGroup move their files at once
// and leave the folder fsyncs to the group's Sync.
func TestAcksShareFolderSyncs(t *testing.T) {
	d, inbox, clock := testDir(t, Config{})
	for _, name := range []string{"a.edi", "b.edi", "c.edi"} {
		write(t, filepath.Join(inbox, name), name, time.Time{})
	}
	ready(t, d)
	clock.Advance(time.Hour)
	ctx, group := channels.WithSyncGroup(context.Background())
	for i := range 3 {
		doc, ack := read(t, d)
		res := channels.Committed()
		if i == 1 {
			res = channels.Rejected("bad")
		}
		if err := ack(ctx, res); err != nil {
			t.Fatalf("ack %s: %v", doc.Name, err)
		}
	}
	if got := regular(t, inbox); len(got) != 0 {
		t.Errorf("inbox after the acks = %q, want empty", got)
	}
	if got, want := len(regular(t, filepath.Join(inbox, "done")))+len(regular(t, filepath.Join(inbox, "error"))), 4; got != want {
		t.Errorf("files in done/ and error/ = %d, want %d (two moved, one moved with its sidecar)", got, want)
	}
	if got, want := group.Len(), 3; got != want {
		t.Errorf("deferred folder syncs = %d, want %d (done/, error/, the inbox: once each)", got, want)
	}
	if err := group.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// contents maps the regular files of dir to their contents.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, name := range regular(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = string(b)
	}
	return m
}
