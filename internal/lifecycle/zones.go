package lifecycle

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"
)

// TZDataVersion is the release of the IANA time zone database that every
// zone is resolved from (tzdata/zoneinfo.zip).
//
// Due times are resolved inside the workflow, so a replay on another worker
// must see the same offsets the first run saw. time.LoadLocation reads the
// machine's zoneinfo first (ZONEINFO, then the system directories) and the
// data embedded by time/tzdata only when those are missing, so two workers
// with different tzdata packages would resolve the same due date to
// different instants. The core therefore never asks the machine: it reads
// this one pinned copy, which changes only with a commit (a new tzdata
// release is a rule change for zones whose offsets it alters).
const TZDataVersion = "2025c"

// zoneinfoZip is Go's lib/time/zoneinfo.zip of TZDataVersion: one TZif file
// per zone name, stored uncompressed.
//
//go:embed tzdata/zoneinfo.zip
var zoneinfoZip []byte

// zoneFiles indexes the embedded archive by zone name, once.
var zoneFiles = sync.OnceValues(func() (map[string]*zip.File, error) {
	r, err := zip.NewReader(bytes.NewReader(zoneinfoZip), int64(len(zoneinfoZip)))
	if err != nil {
		return nil, fmt.Errorf("embedded zone database: %w", err)
	}
	files := make(map[string]*zip.File, len(r.File))
	for _, f := range r.File {
		files[f.Name] = f
	}
	return files, nil
})

var zones sync.Map // zone name -> *time.Location

// LoadZone returns the IANA time zone name (such as America/Panama) from
// the embedded database of TZDataVersion, whatever zone data the machine
// has. "UTC" is time.UTC. "Local" and "" are refused: the machine's own
// zone differs from worker to worker. Every zone the core, its validation
// and the mails use comes from here, so they agree with each other and
// with a replay. Loaded zones are cached for the life of the process.
func LoadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, fmt.Errorf("no time zone")
	case "Local":
		return nil, fmt.Errorf("time zone %q depends on the machine", name)
	case "UTC":
		return time.UTC, nil
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	files, err := zoneFiles()
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	f, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("unknown time zone %q (tzdata %s)", name, TZDataVersion)
	}
	data, err := readZip(f)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	l, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	// Concurrent first loads build equal locations; keep whichever won.
	actual, _ := zones.LoadOrStore(name, l)
	return actual.(*time.Location), nil
}

func readZip(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
