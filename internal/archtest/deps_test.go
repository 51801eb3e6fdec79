package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ordergate/ordergate"

// rule says which non-standard-library imports the packages under prefix
// may have: the module's own packages listed in own, third-party modules in
// thirdParty (import path prefixes).
type rule struct {
	prefix     string
	own        []string
	thirdParty []string
	// forbidden lists import path prefixes that are never allowed, even
	// when another list would allow them.
	forbidden []string
}

var rules = []rule{
	{prefix: "edi", own: []string{"edi"}, thirdParty: []string{"github.com/govalues/decimal", "golang.org/x/text"}},
	{prefix: "normalize/order", own: []string{}, thirdParty: []string{"github.com/govalues/decimal"}},
	{prefix: "routing", own: []string{"routing", "normalize/order", "channels"}, thirdParty: []string{"*"},
		forbidden: []string{module + "/internal", "database/sql", "github.com/mattn/", "github.com/jackc/"}},
	{prefix: "routing/rules", own: []string{"normalize/order"}, thirdParty: []string{"github.com/govalues/decimal", "github.com/expr-lang/expr"}},
	{prefix: "channels", own: []string{"channels"}, thirdParty: []string{"*"},
		forbidden: []string{module + "/edi", module + "/normalize", module + "/routing", module + "/internal", "github.com/ThreeDotsLabs/", "database/sql", "github.com/mattn/", "github.com/jackc/"}},
	{prefix: "normalize", own: []string{"edi", "normalize", "channels"}, thirdParty: []string{"*"},
		forbidden: []string{"github.com/ThreeDotsLabs/", "github.com/spf13/viper", "database/sql", "github.com/mattn/", "github.com/jackc/"}},
	{prefix: "cmd", own: []string{"internal", "cmd"}, thirdParty: []string{"*"}},
}

func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg, imports := strings.TrimPrefix(fields[0], module+"/"), fields[1:]
		r, ok := ruleFor(pkg)
		if !ok {
			continue
		}
		checked++
		for _, imp := range imports {
			if msg := r.violation(imp); msg != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, msg)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package matched a rule: the test checks nothing")
	}
}

// ruleFor returns the most specific rule for pkg.
func ruleFor(pkg string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range rules {
		if (pkg == r.prefix || strings.HasPrefix(pkg, r.prefix+"/")) && len(r.prefix) >= len(best.prefix) {
			best, found = r, true
		}
	}
	return best, found
}

func (r rule) violation(imp string) string {
	for _, f := range r.forbidden {
		if strings.HasPrefix(imp, f) {
			return "forbidden for this layer"
		}
	}
	if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
		for _, o := range r.own {
			if rest == o || strings.HasPrefix(rest, o+"/") {
				return ""
			}
		}
		return "not an allowed package of this module"
	}
	if !strings.Contains(strings.Split(imp, "/")[0], ".") {
		return "" // standard library
	}
	for _, p := range r.thirdParty {
		if p == "*" || strings.HasPrefix(imp, p) {
			return ""
		}
	}
	return "third-party import not allowed in this layer"
}
