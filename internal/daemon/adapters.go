package daemon

import "github.com/rcptguard/rcptguard/internal/config"

// adapters returns the mail-path listeners (policy service, milter, relay) for cfg.
func (d *Daemon) adapters(cfg config.Config) []struct {
	name, addr string
	srv        Server
} {
	return nil
}
