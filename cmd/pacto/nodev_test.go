package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The production binary, as deploy/Dockerfile builds it: the nodev build
// (no embedded default), without cgo, local paths, symbols or DWARF.
// TestDockerfileBuildsProductionBinary holds the Dockerfile to exactly this.
var (
	productionTag   = "nodev"
	productionFlags = []string{"-trimpath", "-tags", productionTag, "-ldflags", "-s -w"}
	productionEnv   = []string{"CGO_ENABLED=0"}
)

// embeddedOnly reports whether a package belongs to the embedded default
// only: the Temporal server, its SQLite persistence, the Temporal Web UI
// server and the dev-only Pacto packages that start them.
func embeddedOnly(pkg string) bool {
	for _, prefix := range []string{
		"go.temporal.io/server",
		"github.com/temporalio/ui-server",
		"pacto/internal/devserver",
		"pacto/internal/pgcluster",
		"pacto/internal/bench",
		"pacto/internal/temporalcluster",
	} {
		if pkg == prefix || strings.HasPrefix(pkg, prefix+"/") {
			return true
		}
	}
	return strings.Contains(pkg, "sqlite")
}

// goList runs go list in this package's directory and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

func TestProductionBuildLeavesOutEmbeddedDefault(t *testing.T) {
	all := goList(t, "-deps", ".")
	slim := goList(t, "-deps", "-tags", productionTag, ".")
	// The default build does link the embedded default, so the check below
	// is one that can fail.
	if !slices.ContainsFunc(all, embeddedOnly) {
		t.Fatal("the default build links no embedded-default package: the filter checks nothing")
	}
	var linked []string
	for _, p := range slim {
		if embeddedOnly(p) {
			linked = append(linked, p)
		}
	}
	if len(linked) > 0 {
		t.Errorf("the %s build links %d embedded-default packages, e.g. %s", productionTag, len(linked), strings.Join(linked[:min(len(linked), 5)], ", "))
	}
	for _, want := range []string{"pacto/internal/api", "pacto/internal/app", "go.temporal.io/sdk/client", "github.com/jackc/pgx/v5"} {
		if !slices.Contains(slim, want) {
			t.Errorf("the %s build does not link %s", productionTag, want)
		}
	}
	t.Logf("packages: default build %d, %s build %d", len(all), productionTag, len(slim))
}

func TestProductionBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pacto")
	build := exec.Command("go", slices.Concat([]string{"build"}, productionFlags, []string{"-o", bin, "."})...)
	build.Env = append(os.Environ(), productionEnv...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("%s binary: %.1f MiB", productionTag, float64(fi.Size())/(1<<20))
	}

	// The binary records how it was built.
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	for _, want := range []string{"-tags=" + productionTag, "-trimpath=true", "CGO_ENABLED=0"} {
		if !strings.Contains(string(info), "\tbuild\t"+want+"\n") {
			t.Errorf("build settings lack %s:\n%s", want, info)
		}
	}
	// -trimpath keeps -ldflags out of the build settings; -s -w show as
	// the absence of a symbol table and of DWARF.
	exe, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("read the binary: %v", err)
	}
	defer exe.Close()
	for _, name := range []string{".symtab", ".debug_info", ".zdebug_info"} {
		if exe.Section(name) != nil {
			t.Errorf("the binary has a %s section: not built with -ldflags \"-s -w\"", name)
		}
	}

	// pactoRun runs the binary in an empty dir and returns its exit code,
	// stdout and stderr.
	dir := t.TempDir()
	pactoRun := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, stdout.String(), stderr.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), stdout.String(), stderr.String()
		}
		t.Fatalf("run pacto %s: %v", strings.Join(args, " "), err)
		return 0, "", ""
	}

	code, stdout, _ := pactoRun("--help")
	if code != 0 {
		t.Errorf("pacto --help: exit %d", code)
	}
	for _, c := range []string{"api", "worker", "serve", "migrate", "setup", "token"} {
		if !regexp.MustCompile(`(?m)^  ` + c + ` +\S`).MatchString(stdout) {
			t.Errorf("pacto --help does not list %s:\n%s", c, stdout)
		}
	}
	for _, c := range []string{"dev", "bench"} {
		if !regexp.MustCompile(`(?m)^  ` + c + ` +not in this build`).MatchString(stdout) {
			t.Errorf("pacto --help does not say %s is not in this build:\n%s", c, stdout)
		}
	}

	for _, c := range []string{"dev", "bench"} {
		code, stdout, stderr := pactoRun(c)
		if code != 1 {
			t.Errorf("pacto %s: exit %d, want 1", c, code)
		}
		for _, want := range []string{"pacto " + c + ": this build has no embedded default", "use the default build", "`pacto api`/`pacto worker` against your own Temporal and PostgreSQL"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("pacto %s: stderr lacks %q:\n%s", c, want, stderr)
			}
		}
		if stdout != "" {
			t.Errorf("pacto %s: stdout %q, want nothing", c, stdout)
		}
	}
	// Neither started anything: no data dir appeared.
	if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
		t.Errorf("pacto dev and bench left %v in the working directory (err %v)", entries, err)
	}
}

// dockerfileGoBuild returns the environment assignments and the words of
// the go build command in deploy/Dockerfile's only RUN line that has one.
func dockerfileGoBuild(t *testing.T, dockerfile string) (env, words []string) {
	t.Helper()
	// Join continuation lines into instructions.
	var instrs []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(dockerfile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	var found []string
	for _, in := range instrs {
		if cmd, ok := strings.CutPrefix(in, "RUN "); ok && strings.Contains(cmd, "go build") {
			found = append(found, cmd)
		}
	}
	if len(found) != 1 {
		t.Fatalf("deploy/Dockerfile has %d RUN lines with go build, want 1: %q", len(found), found)
	}
	all, err := shellWords(found[0])
	if err != nil {
		t.Fatalf("deploy/Dockerfile: %v", err)
	}
	i := 0
	for ; i < len(all) && strings.Contains(all[i], "=") && !strings.HasPrefix(all[i], "-"); i++ {
		env = append(env, all[i])
	}
	if len(all) < i+2 || all[i] != "go" || all[i+1] != "build" {
		t.Fatalf("deploy/Dockerfile: %q is not [VAR=value ...] go build ...", found[0])
	}
	return env, all[i+2:]
}

// shellWords splits a simple shell command into words: blanks separate,
// single and double quotes group; anything fancier is refused.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune("$`\\;&|<>(){}", r):
			return nil, errors.New("command too complex to check: " + s)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote: " + s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// buildFlags parses go build's flags into name → value (true for boolean
// flags), the output file and the packages.
func buildFlags(words []string) (flags map[string]string, output string, pkgs []string) {
	valued := map[string]bool{"tags": true, "ldflags": true, "gcflags": true, "asmflags": true, "o": true, "mod": true, "p": true, "pgo": true, "buildmode": true, "installsuffix": true, "modfile": true, "overlay": true}
	flags = map[string]string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") {
			pkgs = append(pkgs, w)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !hasValue {
			if valued[name] && i+1 < len(words) {
				value = words[i+1]
				i++
			} else {
				value = "true"
			}
		}
		if name == "o" {
			output = value
			continue
		}
		flags[name] = value
	}
	return flags, output, pkgs
}

func TestDockerfileBuildsProductionBinary(t *testing.T) {
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(b)
	env, words := dockerfileGoBuild(t, dockerfile)
	got, output, pkgs := buildFlags(words)
	want, _, _ := buildFlags(productionFlags)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("deploy/Dockerfile builds with -%s %q, want %q", name, got[name], v)
		}
	}
	for name, v := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("deploy/Dockerfile builds with -%s %q, which the production build (and this test) does not", name, v)
		}
	}
	slices.Sort(env)
	if !slices.Equal(env, productionEnv) {
		t.Errorf("deploy/Dockerfile builds with environment %q, want %q", env, productionEnv)
	}
	if !slices.Equal(pkgs, []string{"./cmd/pacto"}) {
		t.Errorf("deploy/Dockerfile builds %q, want ./cmd/pacto", pkgs)
	}
	if output == "" || !strings.Contains(dockerfile, "COPY --from=build "+output+" ") {
		t.Errorf("deploy/Dockerfile does not copy the binary it builds (%q) into the image", output)
	}

	// The image runs as a numeric non-root user, which Kubernetes'
	// runAsNonRoot can verify without a runAsUser of its own.
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(dockerfile, -1)
	if len(users) == 0 {
		t.Fatal("deploy/Dockerfile sets no USER: the image would run as root")
	}
	last := users[len(users)-1][1]
	uid, _, _ := strings.Cut(last, ":")
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(uid) || uid == "0" {
		t.Errorf("deploy/Dockerfile's last USER is %q, want a numeric non-root uid", last)
	}
}

// dockerignore is a .dockerignore's patterns, matched the way the Docker
// builder matches them: relative to the context root, a pattern excludes a
// path it matches or any path under a directory it matches, `**` spans
// any number of directories, and a later `!pattern` takes back what an
// earlier one excluded.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func parseDockerignore(text string) (dockerignore, error) {
	var d dockerignore
	for line := range strings.Lines(text) {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		p = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			case c == '[' || c == '\\':
				return nil, errors.New(".dockerignore: character classes and escapes are not checked here: " + p)
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		compiled, err := regexp.Compile(re.String())
		if err != nil {
			return nil, err
		}
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{compiled, neg})
	}
	return d, nil
}

// excludes reports whether the file at path (slash-separated, relative to
// the context root) stays out of the build context.
func (d dockerignore) excludes(path string) bool {
	excluded := false
	for _, p := range d {
		for dir := path; ; {
			if p.re.MatchString(dir) {
				excluded = !p.negate
				break
			}
			i := strings.LastIndex(dir, "/")
			if i < 0 {
				break
			}
			dir = dir[:i]
		}
	}
	return excluded
}

func TestDockerignore(t *testing.T) {
	// deploy/compose.yaml and the Dockerfile's comment build with the
	// repository root as the context, so its .dockerignore applies.
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDockerignore(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		".git", ".git/HEAD", ".git/objects/pack/x.pack",
		".pacto/dev-tokens.json", ".pacto/postgres/PG_VERSION", ".pacto/temporal/temporal.db",
		"internal/console/testdata/axe/node_modules/axe-core/axe.min.js",
		"workflows/testdata/histories/approve.json",
		"cover.out", "internal/store/cover.out", "pacto.test", "cpu.prof", "bench.json", "pacto",
		".env",
	} {
		if !d.excludes(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}

	// Everything go build reads for the production binary stays: the
	// module files and every source and embedded file of the module's
	// packages it links.
	root := strings.TrimSpace(goList(t, "-m", "-f", "{{.Dir}}")[0])
	need := []string{"go.mod", "go.sum"}
	for _, line := range goList(t, "-deps", "-tags", productionTag, "-f",
		`{{if and .Module (eq .Module.Path "pacto")}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}} {{end}}{{range .EmbedFiles}}{{$d}}/{{.}} {{end}}{{end}}`, ".") {
		rel, err := filepath.Rel(root, line)
		if err != nil {
			t.Fatal(err)
		}
		need = append(need, filepath.ToSlash(rel))
	}
	if len(need) < 50 {
		t.Fatalf("only %d files found that the build needs: %q", len(need), need)
	}
	for _, p := range need {
		if d.excludes(p) {
			t.Errorf(".dockerignore keeps out %s, which the production build needs", p)
		}
	}
}
