package daemon

import (
	"crypto/tls"
	"fmt"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/setup"
	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// DataDirMode is the mode the data folder is created with: held mail, the history and
// the link key are for rcptguard's user only.
const DataDirMode = 0o700

// validate checks everything the configuration names before Start creates anything and
// returns the engine's inputs it read (known_file included), which Start builds the
// guard from: a start that fails must leave no new data folder or database behind, and
// the known file is read once.
func validate(cfg config.Config) (engine.Inputs, error) {
	in, err := setup.Inputs(cfg, setup.Extra{})
	if err != nil {
		return in, err
	}
	if err := destinations(cfg); err != nil {
		return in, err
	}
	if cfg.DNS.Evidence { // the system's resolvers must be there (/etc/resolv.conf)
		if _, _, err := setup.Resolver(cfg.DNS); err != nil {
			return in, err
		}
	}
	if cfg.Relay.Upstream.Address != "" && cfg.Relay.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.Relay.TLSCert, cfg.Relay.TLSKey); err != nil {
			return in, fmt.Errorf("relay TLS certificate: %w", err)
		}
	}
	return in, nil
}

// warnExposed logs a warning when the data folder or a file in it can be read by other
// local users than rcptguard's.
func (d *Daemon) warnExposed(dir string) {
	if exposed := sqlitedb.Exposed(dir); len(exposed) > 0 {
		d.Logger.Warn("the data folder holds held mail and the history, and other local users can read or enter it: "+
			"chmod 700 the folder and 600 its files", "paths", exposed)
	}
}
