package debian_test

import (
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
)

// TestPackagedConfigShowsTheDefaults: the config the package installs loads, and what it
// shows is the real defaults (listeners, data_dir), so that it says what runs.
func TestPackagedConfigShowsTheDefaults(t *testing.T) {
	c, err := config.Load("rcptguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	if config.PackagedDataDir != dataDir {
		t.Fatalf("config.PackagedDataDir is %q, the package's folder %q", config.PackagedDataDir, dataDir)
	}
	if c.Listen != d.Listen || c.DataDir != dataDir {
		t.Errorf("listen %+v, data_dir %q; want the defaults %+v and %q", c.Listen, c.DataDir, d.Listen, dataDir)
	}
	if len(c.OwnDomains)+len(c.Protect) != 0 || c.Quarantine.Reinject.Address != "" {
		t.Errorf("the packaged config names domains or a re-injection service: %+v", c)
	}
}
