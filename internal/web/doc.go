// Package web serves the sender's validation pages.
//
// It is thin: it reads the quarantine store, verifies tokens, and records the
// sender's choice as a state transition (Held → ReleasedAsAddressed,
// ReleasedCorrected or Discarded). It does not re-inject mail: after a
// successful transition it calls a Releaser, which the daemon provides.
//
// # Routes
//
//	GET  /v/{token}  the message summary and three choices (send as addressed,
//	                 send to the suggested domain instead, discard)
//	POST /v/{token}  records one choice: form fields "choice" (release, correct or
//	                 discard) and "csrf"
//
// {token} is a token.View token for the message. Opening a link never changes
// anything (link scanners open every link in an email): GET only reads.
//
// # CSRF
//
// The page uses no cookies and no JavaScript. Each of the three forms carries a
// hidden CSRF token "nonce.mac": nonce is 16 random bytes made when the form is
// rendered, mac is HMAC-SHA256 over the view token, the choice and the nonce,
// under a key derived deterministically from the token Signer's signing key (so it
// holds across restarts and across nodes that share the key, and rotates with it).
// A POST without a valid CSRF token for its choice gets a 403 page; so does a POST
// whose browser says Sec-Fetch-Site: cross-site. The view token in the URL is the
// capability; the CSRF token proves the POST came from a rendered form, not from a
// scanner or another site replaying the link. "Works once" is the store's
// compare-and-set: a second POST loses with quarantine.ErrConflict and gets an
// "already handled" page (409) saying what was chosen and when.
//
// # Errors
//
// A malformed link gets 400, a forged one (or one for another sender) 403, an
// expired link or message 410, a message no longer stored 404; each in plain words.
// Every response carries a strict Content-Security-Policy (no scripts at all; the one
// inline style block is allowed by its hash), nosniff, no-referrer and no-store.
package web
