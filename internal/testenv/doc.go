// Package testenv holds test-only helpers that start real components: an
// in-process SMTP sink, private Postfix instances, a private PostgreSQL server,
// a headless Chromium, an SMTP client that reports the reply to every
// command, and a DNS server on loopback (UDP and TCP) serving zone fixtures,
// with SERVFAIL, dropped questions and truncation on demand (StartDNS).
//
// Nothing in production imports this package; only _test.go files do.
//
// Helpers that need software which may be missing (Postfix, PostgreSQL,
// Chromium, root) skip the
// test, or fail it when the environment variable CI is set (CI=true) or
// RCPTGUARD_REQUIRE_POSTFIX=1, with a message that says to run
// scripts/install-test-deps.sh.
package testenv
