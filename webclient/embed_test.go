package webclient

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

func TestFilesHasPages(t *testing.T) {
	for _, name := range []string{
		"index.html", "customer.html", "customer.js", "agent.html", "agent.js",
		"protocol.js", "ui.js", "style.css",
	} {
		if _, err := fs.Stat(Files(), name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The client must work offline and without a build step: every reference from a page or
// module is a relative path to an embedded file, and nothing is loaded from another origin.
func TestReferencesResolve(t *testing.T) {
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"|from\s+'([^']+)'|import\s+'([^']+)'`)
	err := fs.WalkDir(Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".js")) {
			return err
		}
		body, err := fs.ReadFile(Files(), name)
		if err != nil {
			return err
		}
		for _, m := range refs.FindAllStringSubmatch(string(body), -1) {
			ref := m[1] + m[2] + m[3]
			if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") {
				t.Errorf("%s: external reference %q", name, ref)
				continue
			}
			if ref == "./" {
				ref = "index.html"
			}
			target := path.Join(path.Dir(name), ref)
			if _, err := fs.Stat(Files(), target); err != nil {
				t.Errorf("%s: reference %q does not resolve: %v", name, ref, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
