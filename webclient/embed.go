// Package webclient holds the browser client (customer and agent pages and the protocol
// library, plain ES modules with no build step) as files embedded in the server binary.
package webclient

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the client's files rooted at the static folder, for serving at "/".
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path name, and "static" is a constant.
		panic(err)
	}
	return sub
}
