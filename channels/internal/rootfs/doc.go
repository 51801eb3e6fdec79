// Package rootfs holds the file operations the folder-based channels share,
// all through an os.Root so that no name escapes the channel's folder:
// writing and fsyncing a file, linking without replacing, fsyncing a
// folder, comparing content, numbering a taken name.
package rootfs
