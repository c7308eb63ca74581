// Package deploy holds Pacto's deployment files: the container image, the
// compose stack and the Kubernetes manifests. Its tests check what can be
// checked without a container engine or a cluster: that the files parse,
// that every object has what a production deployment needs, that the files
// agree with one another and with go.mod, and that the compose bootstrap
// script does what it says against a real PostgreSQL with the real binary.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pacto/internal/pgtest"
)

func TestMain(m *testing.M) {
	// The bootstrap test runs `pacto migrate` itself; the template stays
	// empty.
	pgtest.Main(m)
}

// pinnedTag is a full release version: 15.18, 1.32.0, v1.31.3. A major
// alone (postgres:15) moves under the file as much as latest does.
var pinnedTag = regexp.MustCompile(`^v?[0-9]+\.[0-9]+(\.[0-9]+)*$`)

// splitImage splits an image reference into its repository and tag.
func splitImage(ref string) (repo, tag string) {
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}

// unpinned says why ref does not name an image by a release tag, or
// returns "" when it does (a digest pins it too).
func unpinned(ref string) string {
	if strings.Contains(ref, "@sha256:") {
		return ""
	}
	repo, tag := splitImage(ref)
	switch {
	case tag == "":
		return "has no tag (it means latest)"
	case tag == "latest":
		return "is :latest"
	case !pinnedTag.MatchString(tag):
		return "is " + repo + ":" + tag + ", not pinned to a release (want e.g. 1.32.0)"
	}
	return ""
}

func checkPinned(t *testing.T, where, ref string) {
	t.Helper()
	if why := unpinned(ref); why != "" {
		t.Errorf("%s: image %s %s", where, ref, why)
	}
}

func TestUnpinned(t *testing.T) {
	for ref, pinned := range map[string]bool{
		"postgres:15.18":                             true,
		"temporalio/server:1.32.0":                   true,
		"axllent/mailpit:v1.31.3":                    true,
		"registry.example.gov:5000/p:1.2":            true,
		"postgres@sha256:" + strings.Repeat("a", 64): true,
		"postgres":                    false,
		"postgres:15":                 false,
		"postgres:latest":             false,
		"registry.example.gov:5000/p": false,
		"temporalio/ui:main":          false,
	} {
		if got := unpinned(ref) == ""; got != pinned {
			t.Errorf("unpinned(%q) = %q, want pinned %v", ref, unpinned(ref), pinned)
		}
	}
}

// moduleVersion returns the version go.mod requires of a module, without
// its leading v.
func moduleVersion(t *testing.T, module string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+v(\S+)`)
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("go.mod does not require %s", module)
	}
	return string(m[1])
}

// dockerStage returns, for the named stage of deploy/Dockerfile, the output
// path of its `go build -o`, or "" when the stage does not exist.
func dockerStage(t *testing.T, stage string) (exists bool, buildOutput string) {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?i)^FROM\s+\S+(?:\s+AS\s+(\S+))?`)
	out := regexp.MustCompile(`\bgo build\b.*\s-o\s+(\S+)`)
	current := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if m := from.FindStringSubmatch(line); m != nil {
			current = m[1]
			if current == stage {
				exists = true
			}
			continue
		}
		if current == stage {
			if m := out.FindStringSubmatch(line); m != nil {
				buildOutput = m[1]
			}
		}
	}
	return exists, buildOutput
}

// shellSyntax fails unless sh parses the script.
func shellSyntax(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Errorf("%s: sh -n: %v\n%s", path, err, out)
	}
}

// memory parses a Kubernetes memory quantity (128Mi, 1Gi, 500M) into
// bytes; ok is false for anything else, fractions included.
func memory(s string) (bytes int64, ok bool) {
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}} {
		if num, found := strings.CutSuffix(s, u.suffix); found {
			v, err := strconv.ParseInt(num, 10, 64)
			return v * u.factor, err == nil && v > 0
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}

// cpu parses a Kubernetes CPU quantity (100m, 1) into millicores.
func cpu(s string) (millis int64, ok bool) {
	if num, found := strings.CutSuffix(s, "m"); found {
		v, err := strconv.ParseInt(num, 10, 64)
		return v, err == nil && v > 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v * 1000, err == nil && v > 0
}

func TestQuantities(t *testing.T) {
	for s, want := range map[string]int64{"192Mi": 192 << 20, "1Gi": 1 << 30, "500M": 500e6, "1024": 1024} {
		if got, ok := memory(s); !ok || got != want {
			t.Errorf("memory(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "192MB", "0.5Gi", "-1Mi", "Mi"} {
		if _, ok := memory(s); ok {
			t.Errorf("memory(%q) accepted", s)
		}
	}
	for s, want := range map[string]int64{"100m": 100, "2": 2000} {
		if got, ok := cpu(s); !ok || got != want {
			t.Errorf("cpu(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	if _, ok := cpu("0.5"); ok {
		t.Error(`cpu("0.5") accepted; only whole cores or millicores are`)
	}
}
