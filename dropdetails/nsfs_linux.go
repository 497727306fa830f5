package dropdetails

import "golang.org/x/sys/unix"

// isNsfs reports whether path is on nsfs, the file system of namespace
// files.
func isNsfs(path string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(path, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}
