package lifecycle_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// zoneinfoSHA256 is the SHA-256 of tzdata/zoneinfo.zip for TZDataVersion.
// Replacing the archive without changing the version (or the other way
// round) fails here: update both, and this hash, together.
const zoneinfoSHA256 = "8f55634d05f8bca1f7bc7c69c5933428c69357e0bdf565e5ba224e3f88ff12e8"

func TestTZDataVersionPinned(t *testing.T) {
	if lc.TZDataVersion != "2025c" {
		t.Errorf("TZDataVersion = %q, want 2025c", lc.TZDataVersion)
	}
	data, err := os.ReadFile(filepath.Join("tzdata", "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != zoneinfoSHA256 {
		t.Errorf("tzdata/zoneinfo.zip has SHA-256 %x, want %s (tzdata %s)", sum, zoneinfoSHA256, lc.TZDataVersion)
	}
	// America/Coyhaique first appeared in tzdata 2025b.
	if _, err := lc.LoadZone("America/Coyhaique"); err != nil {
		t.Errorf("a 2025b zone is missing: %v", err)
	}
}

func TestLoadZone(t *testing.T) {
	for _, name := range []string{"", "Local", "Mars/Olympus", "america/panama", "America/Panama ", "../zoneinfo/UTC", "/usr/share/zoneinfo/UTC", "America/Panama\x00", "+VERSION"} {
		if l, err := lc.LoadZone(name); err == nil {
			t.Errorf("LoadZone(%q) = %v, want an error", name, l)
		}
	}
	if l, err := lc.LoadZone("UTC"); err != nil || l != time.UTC {
		t.Errorf("LoadZone(UTC) = %v, %v; want time.UTC", l, err)
	}
	a, err := lc.LoadZone("Pacific/Chatham")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := lc.LoadZone("Pacific/Chatham"); a != b {
		t.Error("a zone is loaded afresh on every call, not cached")
	}
	if a.String() != "Pacific/Chatham" {
		t.Errorf("zone named %q", a.String())
	}
	// Chatham keeps +12:45 in (southern) winter and +13:45 in summer.
	for at, want := range map[time.Time]int{
		time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC): 12*3600 + 45*60,
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC): 13*3600 + 45*60,
	} {
		if _, off := at.In(a).Zone(); off != want {
			t.Errorf("Chatham offset at %s = %d, want %d", at, off, want)
		}
	}
}

// A party in a zone the core cannot load is refused at proposal.
func TestProposeRefusesZonesOutsideTheDatabase(t *testing.T) {
	for _, tz := range []string{"Local", "", "america/new_york", "Mars/Olympus"} {
		c := proposal("PA", "US")
		c.DialogueParties = []lc.Party{{Code: "PA", TimeZone: "America/Panama"}, {Code: "US", TimeZone: tz}}
		refuse(t, lc.State{}, c, coord("PA"), t0, lc.KindInvalidInput, "parties[1]")
	}
}

// zoneCases are the zones whose due times the worker test compares: no
// DST, northern and southern DST, half- and quarter-hour offsets, and
// zones whose rules changed in recent releases.
var zoneCases = []string{
	"America/Panama", "America/New_York", "Europe/Madrid", "Asia/Kolkata",
	"Pacific/Chatham", "Australia/Lord_Howe", "America/Santiago", "America/Coyhaique",
	"Africa/Casablanca", "Asia/Tehran", "America/Mexico_City", "Europe/Dublin",
}

// resolvedDues resolves a set of due times in every zone of zoneCases
// the way a worker does: through the core's Decide, from proposal to
// activation, under rule versions 1 and 2. One line per milestone.
func resolvedDues(t *testing.T) []string {
	t.Helper()
	dues := []string{
		"2026-03-08", "2026-03-29", "2026-04-05", "2026-10-25", "2026-11-01", "2027-02-28",
		"P1M", "P6M", "P1Y", "P1M1DT12H", "PT36H", "P2W",
	}
	activations := []time.Time{
		time.Date(2026, 1, 31, 6, 30, 0, 0, time.UTC),
		time.Date(2026, 2, 28, 23, 45, 0, 0, time.UTC),
		time.Date(2026, 3, 7, 14, 0, 0, 0, time.UTC),
	}
	var out []string
	for _, zone := range zoneCases {
		for _, rules := range []int{1, 2} {
			for _, act := range activations {
				c := proposal("PA", "US")
				c.Rules = rules
				c.DialogueParties = []lc.Party{{Code: "PA", TimeZone: zone}, {Code: "US", TimeZone: "UTC"}}
				c.Milestones = nil
				for i, due := range dues {
					c.Milestones = append(c.Milestones, lc.MilestoneSpec{ID: fmt.Sprintf("m%d", i), Title: lc.Plain("m"), Owner: "PA", Due: due})
				}
				s, _ := run(t, lc.State{}, c, coord("PA"), time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC))
				s = activeAt(t, s, act)
				for i, m := range s.Milestones {
					out = append(out, fmt.Sprintf("%s rules=%d activated=%s due=%s -> %s", zone, rules, act.Format(time.RFC3339), dues[i], m.DueAt.Format(time.RFC3339)))
				}
			}
		}
	}
	return out
}

// The child half of TestWorkerZonesIgnoreMachine: prints resolvedDues.
func TestWorkerZonesChild(t *testing.T) {
	if os.Getenv("PACTO_TEST_ZONES_CHILD") != "1" {
		t.Skip("run by TestWorkerZonesIgnoreMachine")
	}
	fmt.Println("BEGIN")
	for _, l := range resolvedDues(t) {
		fmt.Println(l)
	}
	fmt.Println("END")
}

// A worker resolves every due time identically whatever zone data its
// machine has: none at all, or a zoneinfo that disagrees with the pinned
// one. The test binary is run again with ZONEINFO (which time.LoadLocation
// reads before anything else) pointing at such a directory and TZ unset.
func TestWorkerZonesIgnoreMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	want := resolvedDues(t)

	empty := t.TempDir()
	// forged has the right names with the wrong rules: Panama as India,
	// New York and Madrid as UTC, Chatham as Panama.
	forged := t.TempDir()
	for name, from := range map[string]string{
		"America/Panama":   "Asia/Kolkata",
		"America/New_York": "Etc/UTC",
		"Europe/Madrid":    "Etc/UTC",
		"Pacific/Chatham":  "America/Panama",
	} {
		p := filepath.Join(forged, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, tzif(t, from), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for label, dir := range map[string]string{"no zoneinfo": empty, "forged zoneinfo": forged} {
		t.Run(label, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerZonesChild$", "-test.count=1", "-test.v")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "TZ=") && !strings.HasPrefix(kv, "ZONEINFO=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, "ZONEINFO="+dir, "PACTO_TEST_ZONES_CHILD=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			text := string(out)
			begin, end := strings.Index(text, "BEGIN\n"), strings.Index(text, "END\n")
			if begin < 0 || end < begin {
				t.Fatalf("child printed no due times:\n%s", out)
			}
			got := strings.Split(strings.TrimSuffix(text[begin+len("BEGIN\n"):end], "\n"), "\n")
			if len(got) != len(want) {
				t.Fatalf("child resolved %d due times, parent %d", len(got), len(want))
			}
			diffs := 0
			for i := range want {
				if got[i] != want[i] {
					if diffs++; diffs <= 5 {
						t.Errorf("child %s\nparent %s", got[i], want[i])
					}
				}
			}
			if diffs > 0 {
				t.Errorf("%d of %d due times differ", diffs, len(want))
			}
		})
	}
}

// tzif is the compiled zone name from the pinned archive.
func tzif(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("tzdata", "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Pinned instants, so that the parent's own answers do not depend on its
// machine either.
func TestDueTimesInZones(t *testing.T) {
	tests := []struct {
		zone string
		due  string
		act  time.Time
		want string
	}{
		// End of the day, local time.
		{"America/Panama", "2026-03-31", time.Time{}, "2026-04-01T04:59:59Z"},
		{"America/New_York", "2026-03-07", time.Time{}, "2026-03-08T04:59:59Z"}, // EST
		{"America/New_York", "2026-03-08", time.Time{}, "2026-03-09T03:59:59Z"}, // EDT from that morning
		{"Europe/Madrid", "2026-03-28", time.Time{}, "2026-03-28T22:59:59Z"},
		{"Europe/Madrid", "2026-03-29", time.Time{}, "2026-03-29T21:59:59Z"},
		{"Asia/Kolkata", "2026-06-30", time.Time{}, "2026-06-30T18:29:59Z"},
		{"Pacific/Chatham", "2026-04-05", time.Time{}, "2026-04-05T11:14:59Z"}, // back to +12:45 that morning
		{"Pacific/Chatham", "2026-09-27", time.Time{}, "2026-09-27T10:14:59Z"}, // +13:45 from that morning
		// A day from activation keeps the local clock across a DST change;
		// 24 hours do not.
		{"America/New_York", "P1D", time.Date(2026, 3, 7, 17, 0, 0, 0, time.UTC), "2026-03-08T16:00:00Z"},
		{"America/New_York", "PT24H", time.Date(2026, 3, 7, 17, 0, 0, 0, time.UTC), "2026-03-08T17:00:00Z"},
		{"Pacific/Chatham", "P1D", time.Date(2026, 4, 4, 0, 0, 0, 0, time.UTC), "2026-04-05T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.due, func(t *testing.T) {
			loc, err := lc.LoadZone(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			d, err := lc.ParseDue(tt.due)
			if err != nil {
				t.Fatal(err)
			}
			for _, rules := range []int{1, 2} {
				got, ok := d.ResolveRules(loc, tt.act, rules)
				if !ok || got.Format(time.RFC3339) != tt.want {
					t.Errorf("rules %d: %s resolves to %s (%v), want %s", rules, tt.due, got.Format(time.RFC3339), ok, tt.want)
				}
			}
		})
	}
}
