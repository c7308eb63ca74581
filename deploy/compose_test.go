package deploy

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

// The part of the compose file format compose.yaml uses. Loading it with
// KnownFields makes any other key (a typo such as depends_on's
// "condtion") an error, so adding a new kind of setting means adding it
// here too.
type composeFile struct {
	Name       string                    `yaml:"name"`
	Services   map[string]composeService `yaml:"services"`
	Volumes    map[string]struct{}       `yaml:"volumes"`
	Extensions map[string]any            `yaml:",inline"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       *composeBuild                `yaml:"build"`
	Command     []string                     `yaml:"command"`
	Environment map[string]string            `yaml:"environment"`
	Volumes     []string                     `yaml:"volumes"`
	Ports       []string                     `yaml:"ports"`
	Healthcheck *composeHealthcheck          `yaml:"healthcheck"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
	Deploy      *struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
	Restart string `yaml:"restart"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
	Target     string `yaml:"target"`
}

type composeHealthcheck struct {
	// Test is the exec form (["CMD", ...]): the string form would need a
	// shell in the image.
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f composeFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for k := range f.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("compose.yaml: unknown top-level key %q", k)
		}
	}
	if len(f.Services) == 0 {
		t.Fatal("compose.yaml: no services")
	}
	return f
}

// isPacto reports whether a service runs the image deploy/Dockerfile
// builds.
func (s composeService) isPacto() bool {
	return s.Build != nil && s.Build.Dockerfile == "deploy/Dockerfile"
}

// hostPort returns the host port a service publishes its container port
// on ("127.0.0.1:8233:8080" publishes 8080 on 8233), or "".
func (s composeService) hostPort(container string) string {
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if len(parts) >= 2 && parts[len(parts)-1] == container {
			return parts[len(parts)-2]
		}
	}
	return ""
}

// servicesByImage returns the names of the services whose image is repo.
func (f composeFile) servicesByImage(repo string) []string {
	var names []string
	for name, s := range f.Services {
		if r, _ := splitImage(s.Image); r == repo {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func one(t *testing.T, what string, names []string) string {
	t.Helper()
	if len(names) != 1 {
		t.Fatalf("compose.yaml: want one service %s, have %v", what, names)
	}
	return names[0]
}

func TestComposeImagesArePinned(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		switch {
		case s.Image != "" && s.Build != nil:
			t.Errorf("%s: both image and build", name)
		case s.Image == "" && s.Build == nil:
			t.Errorf("%s: neither image nor build", name)
		case s.Image != "":
			checkPinned(t, name, s.Image)
		}
	}
}

// The server, the schema tool and the UI are the releases Pacto's own
// embedded default runs (go.mod), so that compose tries what `pacto dev`
// and the tests run; the schema tool must be the server's release, as the
// schema is the release's.
func TestComposeTemporalMatchesGoMod(t *testing.T) {
	f := loadCompose(t)
	server := moduleVersion(t, "go.temporal.io/server")
	ui := moduleVersion(t, "github.com/temporalio/ui-server/v2")
	for repo, want := range map[string]string{
		"temporalio/server":      server,
		"temporalio/admin-tools": server,
		"temporalio/ui":          ui,
	} {
		name := one(t, repo, f.servicesByImage(repo))
		if _, tag := splitImage(f.Services[name].Image); tag != want {
			t.Errorf("%s: %s:%s, but go.mod has %s", name, repo, tag, want)
		}
	}
}

func TestComposeDatabasesHaveHealthchecks(t *testing.T) {
	f := loadCompose(t)
	dbs := f.servicesByImage("postgres")
	if len(dbs) < 2 {
		t.Fatalf("want PostgreSQL for Pacto and for Temporal, have %v", dbs)
	}
	for _, name := range dbs {
		s := f.Services[name]
		hc := s.Healthcheck
		if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" || hc.Test[1] != "pg_isready" {
			t.Errorf("%s: want a healthcheck [CMD, pg_isready, ...], have %+v", name, hc)
			continue
		}
		// It must ask for the role the image creates, or it answers
		// "no response" for ever on a server that is up.
		if user := s.Environment["POSTGRES_USER"]; !slices.Contains(hc.Test, user) {
			t.Errorf("%s: pg_isready does not name the user %q: %v", name, user, hc.Test)
		}
		if hc.Retries == 0 || hc.Interval == "" {
			t.Errorf("%s: healthcheck without interval or retries: %+v", name, hc)
		}
	}
}

func TestComposeDependencies(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		for dep, d := range s.DependsOn {
			target, ok := f.Services[dep]
			if !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
				continue
			}
			switch d.Condition {
			case "service_healthy":
				if target.Healthcheck == nil {
					t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case "service_completed_successfully":
				// A one-shot: it exits, so it publishes nothing and
				// is not restarted for ever.
				if len(target.Ports) > 0 || target.Restart == "always" || target.Restart == "unless-stopped" {
					t.Errorf("%s waits for %s to complete, which is not a one-shot", name, dep)
				}
			case "service_started":
			default:
				t.Errorf("%s depends on %s without a condition (%q)", name, dep, d.Condition)
			}
		}
	}

	// The order a production start needs.
	want := map[string]map[string]string{
		"temporal-schema": {"temporal-db": "service_healthy"},
		"temporal":        {"temporal-schema": "service_completed_successfully"},
		"temporal-ui":     {"temporal": "service_healthy"},
		"migrate":         {"postgres": "service_healthy"},
		"setup":           {"temporal": "service_healthy"},
		"bootstrap":       {"migrate": "service_completed_successfully", "setup": "service_completed_successfully"},
	}
	for name, s := range f.Services {
		if s.isPacto() && len(s.Command) > 0 && (s.Command[0] == "api" || s.Command[0] == "worker") {
			want[name] = map[string]string{"migrate": "service_completed_successfully", "setup": "service_completed_successfully"}
		}
	}
	if _, ok := want["api"]; !ok {
		t.Error("no pacto api service")
	}
	if _, ok := want["worker"]; !ok {
		t.Error("no pacto worker service")
	}
	for name, deps := range want {
		s, ok := f.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		for dep, cond := range deps {
			if got := s.DependsOn[dep].Condition; got != cond {
				t.Errorf("%s: depends on %s with %q, want %q", name, dep, got, cond)
			}
		}
	}
}

func TestComposeUIDecodesThroughTheAPI(t *testing.T) {
	f := loadCompose(t)
	uiName := one(t, "temporalio/ui", f.servicesByImage("temporalio/ui"))
	ui, api := f.Services[uiName], f.Services["api"]
	uiPort, apiPort := ui.hostPort("8080"), api.hostPort("8080")
	if uiPort == "" || apiPort == "" {
		t.Fatalf("the UI (%v) and the API (%v) must both be published", ui.Ports, api.Ports)
	}
	// The browser calls the endpoint, so it is the API as published on
	// the host, not as the service network names it.
	endpoint, err := url.Parse(ui.Environment["TEMPORAL_CODEC_ENDPOINT"])
	if err != nil || endpoint.Path != "/codec" || endpoint.Hostname() != "localhost" || endpoint.Port() != apiPort {
		t.Errorf("%s: TEMPORAL_CODEC_ENDPOINT = %q, want http://localhost:%s/codec", uiName, ui.Environment["TEMPORAL_CODEC_ENDPOINT"], apiPort)
	}
	// The codec takes the console's session cookie, not the UI's token.
	if ui.Environment["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] != "true" {
		t.Errorf("%s: TEMPORAL_CODEC_INCLUDE_CREDENTIALS must be true", uiName)
	}
	if v := ui.Environment["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"]; v == "true" {
		t.Errorf("%s: TEMPORAL_CODEC_PASS_ACCESS_TOKEN = true sends the UI's token, which Pacto does not know", uiName)
	}
	origin := "http://localhost:" + uiPort
	if got := api.Environment["PACTO_CODEC_CORS_ORIGIN"]; got != origin {
		t.Errorf("api: PACTO_CODEC_CORS_ORIGIN = %q, want the UI's origin %s", got, origin)
	}
	if got := ui.Environment["TEMPORAL_CORS_ORIGINS"]; got != origin {
		t.Errorf("%s: TEMPORAL_CORS_ORIGINS = %q, want its own origin %s", uiName, got, origin)
	}
}

func TestComposePactoSettingsAgree(t *testing.T) {
	f := loadCompose(t)
	pg := f.Services["postgres"]
	temporal := one(t, "temporalio/server", f.servicesByImage("temporalio/server"))
	uiName := one(t, "temporalio/ui", f.servicesByImage("temporalio/ui"))
	namespace := f.Services[uiName].Environment["TEMPORAL_DEFAULT_NAMESPACE"]
	n := 0
	for name, s := range f.Services {
		if !s.isPacto() {
			continue
		}
		n++
		env := s.Environment
		// Matched as text: the password is a ${VAR:-default} the URL
		// parser would refuse before compose fills it in.
		db := databaseURL.FindStringSubmatch(env["PACTO_DATABASE_URL"])
		if db == nil {
			t.Errorf("%s: PACTO_DATABASE_URL %q is not postgres://user:password@host:port/db", name, env["PACTO_DATABASE_URL"])
			continue
		}
		if db[3] != "postgres" || db[1] != pg.Environment["POSTGRES_USER"] || db[2] != pg.Environment["POSTGRES_PASSWORD"] || db[5] != pg.Environment["POSTGRES_DB"] {
			t.Errorf("%s: PACTO_DATABASE_URL does not match the postgres service's user, password and database", name)
		}
		if env["TEMPORAL_ADDRESS"] != temporal+":7233" {
			t.Errorf("%s: TEMPORAL_ADDRESS = %q, want %s:7233", name, env["TEMPORAL_ADDRESS"], temporal)
		}
		if env["TEMPORAL_NAMESPACE"] != namespace {
			t.Errorf("%s: TEMPORAL_NAMESPACE = %q, the UI shows %q", name, env["TEMPORAL_NAMESPACE"], namespace)
		}
		// Every process encrypts payloads, with the same ring.
		if !strings.HasPrefix(env["PACTO_CODEC_KEYS"], "${PACTO_CODEC_KEYS:?") {
			t.Errorf("%s: PACTO_CODEC_KEYS = %q, want it required from the environment", name, env["PACTO_CODEC_KEYS"])
		}
	}
	if n < 5 {
		t.Errorf("only %d services run pacto; want migrate, setup, bootstrap, worker, api", n)
	}
	if c := f.Services["setup"].Command; !slices.Contains(c, "--create-namespace") {
		t.Errorf("setup: %v does not create the namespace a fresh server lacks", c)
	}
}

func TestComposeMailGoesToTheCatcher(t *testing.T) {
	f := loadCompose(t)
	catcher := one(t, "axllent/mailpit", f.servicesByImage("axllent/mailpit"))
	if f.Services[catcher].hostPort("8025") == "" {
		t.Errorf("%s: its web UI (8025) is not published", catcher)
	}
	w := f.Services["worker"].Environment
	if w["PACTO_SMTP_HOST"] != catcher || w["PACTO_SMTP_PORT"] != "1025" {
		t.Errorf("worker: SMTP %s:%s, want %s:1025", w["PACTO_SMTP_HOST"], w["PACTO_SMTP_PORT"], catcher)
	}
	// Mailpit offers no STARTTLS unless given a certificate.
	if w["PACTO_SMTP_TLS"] == "starttls" || w["PACTO_SMTP_TLS"] == "" {
		t.Errorf("worker: PACTO_SMTP_TLS = %q requires STARTTLS, which the catcher does not offer", w["PACTO_SMTP_TLS"])
	}
}

// Scripts a service runs from a bind mount: the file exists, sh parses it,
// and the command names the path it is mounted at.
func TestComposeScriptsAreMounted(t *testing.T) {
	f := loadCompose(t)
	scripts := 0
	for name, s := range f.Services {
		mounts := map[string]string{}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if !strings.HasPrefix(parts[0], "./") {
				if _, ok := f.Volumes[parts[0]]; !ok {
					t.Errorf("%s: volume %s is neither a file here nor a named volume", name, parts[0])
				}
				continue
			}
			if len(parts) < 3 || parts[2] != "ro" {
				t.Errorf("%s: bind mount %s is not read-only", name, v)
			}
			if _, err := os.Stat(parts[0]); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			mounts[parts[1]] = parts[0]
		}
		if len(s.Command) == 2 && s.Command[0] == "sh" {
			scripts++
			host, ok := mounts[s.Command[1]]
			if !ok {
				t.Errorf("%s: runs %s, which nothing is mounted at", name, s.Command[1])
				continue
			}
			shellSyntax(t, host)
		}
	}
	// The server reads its dynamic configuration from a file it needs.
	temporal := f.Services[one(t, "temporalio/server", f.servicesByImage("temporalio/server"))]
	dc := temporal.Environment["DYNAMIC_CONFIG_FILE_PATH"]
	mounted := false
	for _, v := range temporal.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == dc {
			mounted = true
			var cfg map[string][]struct {
				Value       any            `yaml:"value"`
				Constraints map[string]any `yaml:"constraints"`
			}
			if b, err := os.ReadFile(parts[0]); err != nil {
				t.Error(err)
			} else if err := yaml.Unmarshal(b, &cfg); err != nil || len(cfg) == 0 {
				t.Errorf("%s: not a dynamic configuration (key: [{value: ...}]): %v", parts[0], err)
			}
		}
	}
	if dc == "" || !mounted {
		t.Errorf("the Temporal server's DYNAMIC_CONFIG_FILE_PATH (%q) is not a file mounted into it", dc)
	}
	if scripts < 2 {
		t.Errorf("want the schema and bootstrap scripts, found %d", scripts)
	}
}

// The bootstrap runs in the Dockerfile's build stage, for its shell; the
// binary is where that stage's go build writes it.
func TestComposeBootstrapBuildsFromTheDockerfile(t *testing.T) {
	f := loadCompose(t)
	b := f.Services["bootstrap"]
	if b.Build == nil || b.Build.Target == "" {
		t.Fatalf("bootstrap: want a build of a Dockerfile stage, have %+v", b.Build)
	}
	exists, out := dockerStage(t, b.Build.Target)
	if !exists {
		t.Fatalf("bootstrap: deploy/Dockerfile has no stage %q", b.Build.Target)
	}
	if out == "" || b.Environment["PACTO_BIN"] != out {
		t.Errorf("bootstrap: PACTO_BIN = %q, but stage %s builds pacto to %q", b.Environment["PACTO_BIN"], b.Build.Target, out)
	}
}

// buildPacto builds the pacto binary as production does (-tags nodev)
// into a temp dir.
func buildPacto(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pacto")
	cmd := exec.Command("go", "build", "-tags", "nodev", "-o", bin, "pacto/cmd/pacto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var (
	databaseURL  = regexp.MustCompile(`^postgres://([^:@/]+):(.+)@([^:@/]+):([0-9]+)/([^?]+)(\?.*)?$`)
	tokenSecret  = regexp.MustCompile(`(?m)^pacto_\S+$`)
	tokenCreated = regexp.MustCompile(`token (\S+) created for admin`)
)

// TestBootstrapIsIdempotent runs compose/bootstrap.sh, with the data the
// bootstrap service gives it, against a real PostgreSQL with the binary
// built as the image builds it: once on an empty database, again on what
// it made, again once the admin's token is revoked, and once with a party
// pacto refuses.
func TestBootstrapIsIdempotent(t *testing.T) {
	bin := buildPacto(t)
	db := pgtest.NewDatabase(t)
	svc := loadCompose(t).Services["bootstrap"]
	env := []string{"PATH=" + os.Getenv("PATH"), "PACTO_BIN=" + bin, "PACTO_DATABASE_URL=" + db}
	for _, k := range []string{"BOOTSTRAP_PARTIES", "BOOTSTRAP_DIALOGUE", "BOOTSTRAP_ADMIN"} {
		if svc.Environment[k] == "" {
			t.Fatalf("bootstrap service: no %s", k)
		}
		env = append(env, k+"="+svc.Environment[k])
	}
	run := func(env []string, args ...string) (string, string, error) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	bootstrap := func(env []string) (string, string, error) {
		t.Helper()
		return run(env, "sh", filepath.Join("compose", "bootstrap.sh"))
	}
	if out, errOut, err := run(env, bin, "migrate"); err != nil {
		t.Fatalf("pacto migrate: %v\n%s%s", err, out, errOut)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	liveTokens := func() int {
		t.Helper()
		ts, err := st.Tokens(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tk := range ts {
			if tk.RevokedAt == nil {
				n++
			}
		}
		return n
	}

	// First run: everything is made, and the token printed works.
	out, errOut, err := bootstrap(env)
	if err != nil {
		t.Fatalf("first run: %v\n%s%s", err, out, errOut)
	}
	secrets := tokenSecret.FindAllString(out, -1)
	if len(secrets) != 1 {
		t.Fatalf("first run printed %d token secrets, want 1:\n%s", len(secrets), out)
	}
	p, err := st.Authenticate(ctx, secrets[0], time.Now())
	if err != nil || p.ID != "admin" || !slices.Contains(p.Roles, "admin") {
		t.Fatalf("the printed token: principal %+v, %v; want the admin", p, err)
	}
	parties, err := st.Parties(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, p := range parties {
		codes = append(codes, p.Code)
	}
	slices.Sort(codes)
	if !slices.Equal(codes, []string{"PA", "US"}) {
		t.Errorf("parties %v, want PA and US", codes)
	}
	ds, err := st.Dialogues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != "hld-pa-us" || len(ds[0].Parties) != 2 {
		t.Errorf("dialogues %+v, want hld-pa-us between PA and US", ds)
	}

	// Second run: everything is kept, and no second token is made.
	out, errOut, err = bootstrap(env)
	if err != nil {
		t.Fatalf("second run: %v\n%s%s", err, out, errOut)
	}
	if n := strings.Count(out, "kept as it is"); n != 4 {
		t.Errorf("second run kept %d objects, want 4 (two parties, the dialogue, the admin):\n%s", n, out)
	}
	if tokenSecret.MatchString(out) || !strings.Contains(out, "already has a live token") {
		t.Errorf("second run made a token or did not say why not:\n%s", out)
	}
	if n := liveTokens(); n != 1 {
		t.Errorf("after the second run the admin has %d live tokens, want 1", n)
	}

	// Once the token is revoked, a run makes a new one.
	m := tokenCreated.FindStringSubmatch(out)
	if m != nil {
		t.Fatalf("second run created a token: %s", m[0])
	}
	ts, err := st.Tokens(ctx, "admin")
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens %+v, %v", ts, err)
	}
	if out, errOut, err := run(env, bin, "token", "revoke", ts[0].ID); err != nil {
		t.Fatalf("pacto token revoke: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = bootstrap(env)
	if err != nil {
		t.Fatalf("third run: %v\n%s%s", err, out, errOut)
	}
	if len(tokenSecret.FindAllString(out, -1)) != 1 || liveTokens() != 1 {
		t.Errorf("third run, after the revocation: want one new live token:\n%s", out)
	}

	// "Already exists" is the only failure it passes over.
	bad := slices.Clone(env)
	for i, kv := range bad {
		if strings.HasPrefix(kv, "BOOTSTRAP_PARTIES=") {
			bad[i] = kv + "\nXX;Nowhere;Not/AZone;en"
		}
	}
	out, errOut, err = bootstrap(bad)
	if err == nil {
		t.Fatalf("a party with an unknown time zone: the bootstrap succeeded:\n%s", out)
	}
	if !strings.Contains(errOut, "time zone") {
		t.Errorf("a party with an unknown time zone: pacto's reason is not shown:\n%s%s", out, errOut)
	}
}
