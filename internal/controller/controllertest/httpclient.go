package controllertest

import "net/http"

// HTTPClient is the HTTP client test SDK clients use (request bodies
// buffered; see newHTTPClient), for tests that talk to a kumo process.
func HTTPClient() *http.Client { return newHTTPClient() }
