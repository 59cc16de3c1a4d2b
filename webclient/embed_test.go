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
		"supervisor.html", "supervisor.js", "admin.html", "admin.js",
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

// The index links every page.
func TestIndexLinksAllPages(t *testing.T) {
	body, err := fs.ReadFile(Files(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"customer.html", "agent.html", "supervisor.html", "admin.html"} {
		if !strings.Contains(string(body), `href="`+page+`"`) {
			t.Errorf("index.html does not link %s", page)
		}
	}
}

// There is no build step to catch a misspelt import: every name a module imports from another
// module of the client is exported by it.
func TestImportsAreExported(t *testing.T) {
	imports := regexp.MustCompile(`import\s*\{([^}]*)\}\s*from\s*'\./([^']+)'`)
	exports := regexp.MustCompile(`export\s+(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)`)
	exported := func(name string) map[string]bool {
		body, err := fs.ReadFile(Files(), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := map[string]bool{}
		for _, m := range exports.FindAllStringSubmatch(string(body), -1) {
			out[m[1]] = true
		}
		return out
	}
	files, _ := fs.Glob(Files(), "*.js")
	for _, name := range files {
		body, _ := fs.ReadFile(Files(), name)
		for _, m := range imports.FindAllStringSubmatch(string(body), -1) {
			have := exported(m[2])
			for _, item := range strings.Split(m[1], ",") {
				imported := strings.TrimSpace(strings.Split(strings.TrimSpace(item), " as ")[0])
				if imported != "" && !have[imported] {
					t.Errorf("%s imports %s from %s, which does not export it", name, imported, m[2])
				}
			}
		}
	}
}

// Each page script only looks up elements its page has: $('x') in page.js needs id="x" in page.html.
func TestPageScriptsFindTheirElements(t *testing.T) {
	lookups := regexp.MustCompile(`\$\('([\w-]+)'\)`)
	for _, page := range []string{"customer", "agent", "supervisor", "admin"} {
		html, err := fs.ReadFile(Files(), page+".html")
		if err != nil {
			t.Fatal(err)
		}
		js, err := fs.ReadFile(Files(), page+".js")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lookups.FindAllStringSubmatch(string(js), -1) {
			if !strings.Contains(string(html), `id="`+m[1]+`"`) {
				t.Errorf("%s.js looks up #%s, which %s.html lacks", page, m[1], page)
			}
		}
	}
}

// The pages that show a call have the elements ui.js's bindCallView needs, and every page has the
// error box that shows a server error's code and message.
func TestPagesHaveCommonElements(t *testing.T) {
	call := []string{"ws-state", "pc-state", "remote", "local", "btn-audio", "btn-video", "btn-hangup", "enable-sound", "parties", "remote-label"}
	for _, page := range []string{"customer", "agent", "supervisor", "admin"} {
		html, err := fs.ReadFile(Files(), page+".html")
		if err != nil {
			t.Fatal(err)
		}
		need := []string{"error", "ws-state"}
		if page != "admin" {
			need = append(need, call...)
		}
		for _, id := range need {
			if !strings.Contains(string(html), `id="`+id+`"`) {
				t.Errorf("%s.html lacks #%s", page, id)
			}
		}
		if !strings.Contains(string(html), `class="code"`) || !strings.Contains(string(html), `class="message"`) {
			t.Errorf("%s.html: the error box lacks its code and message", page)
		}
	}
}
