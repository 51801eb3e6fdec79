// Package rootfs holds the file operations the folder-based channels share,
// all through an os.Root so that no name escapes the channel's folder:
// writing and fsyncing a file, syncing a file system for a batch of
// files, linking without replacing, fsyncing a folder, comparing
// content, numbering a taken name.
package rootfs
