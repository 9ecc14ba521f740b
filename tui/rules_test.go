package tui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestUIPackagesOnlyDrawAndReact holds every package under tui/ to the
// rules of DESIGN.md: a UI package never opens a listener or serves
// requests, and meets the server only on the wire (it imports neither the
// server nor the workshop). Tests may cross that line; the code may not.
func TestUIPackagesOnlyDrawAndReact(t *testing.T) {
	forbiddenImports := []string{
		"net/http/httptest",
		"github.com/pushsim/pushsim/server",
		"github.com/pushsim/pushsim/workshop",
	}
	listeners := map[string]map[string]bool{
		"net":  {"Listen": true, "ListenTCP": true, "ListenUDP": true, "ListenUnix": true, "ListenPacket": true, "ListenConfig": true},
		"http": {"ListenAndServe": true, "ListenAndServeTLS": true, "Serve": true, "ServeTLS": true, "Server": true},
		"tls":  {"Listen": true},
		// The tour is handed its stage; only the caller starts one.
		"tourstage": {"Start": true},
	}
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		names := map[string]string{} // local name → import path
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if p == bad || strings.HasPrefix(p, bad+"/") {
					t.Errorf("%s imports %s", path, p)
				}
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			short := names[pkg.Name]
			short = short[strings.LastIndex(short, "/")+1:]
			if listeners[short][sel.Sel.Name] {
				t.Errorf("%s uses %s.%s: a UI package does not listen or serve", path, pkg.Name, sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d files checked: is the test looking at tui/?", checked)
	}
}

// TestKeyBindingsOnlyInKeyMaps holds the UI packages to one key map: a
// binding is made in tui/style and nowhere else, so what a key does and
// what every help says come from the same place.
func TestKeyBindingsOnlyInKeyMaps(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if filepath.Dir(path) == "style" {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		local := ""
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "charm.land/bubbles/v2/key" {
				local = "key"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" {
			return nil
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == local && (sel.Sel.Name == "NewBinding" || sel.Sel.Name == "WithKeys") {
					t.Errorf("%s makes a key binding (key.%s): bindings live in tui/style's key maps", path, sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d files checked: is the test looking at tui/?", checked)
	}
}
