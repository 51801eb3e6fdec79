package rootfs

import "os"

// FSSync makes a batch of files durable with one sync of their file
// system instead of an fsync each: a batch of a few hundred files costs
// one journal commit instead of hundreds (docs/benchmarks.md). It also
// writes back whatever else is pending on that file system, which a
// caller weighs against the fsyncs it saves.
type FSSync struct {
	dir *os.File
}

// Close releases the folder OpenFSSync opened.
func (s *FSSync) Close() error { return s.dir.Close() }
