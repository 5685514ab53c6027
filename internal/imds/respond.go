package imds

import (
	"net/http"
	"strconv"
)

// text answers 200 with a text/plain body (listings, values, the document).
func text(w http.ResponseWriter, r *http.Request, body []byte) {
	write(w, r, http.StatusOK, "text/plain", body)
}

// raw answers 200 with user-data's bytes as they were given.
func raw(w http.ResponseWriter, r *http.Request, body []byte) {
	write(w, r, http.StatusOK, "application/octet-stream", body)
}

// errorStatus answers a small HTML page, as AWS's service does.
func errorStatus(w http.ResponseWriter, r *http.Request, code int) {
	title := strconv.Itoa(code) + " - " + http.StatusText(code)
	page := "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n" +
		"<html><head><title>" + title + "</title></head>\n" +
		"<body><h1>" + title + "</h1></body></html>\n"
	write(w, r, code, "text/html", []byte(page))
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	errorStatus(w, nil, http.StatusMethodNotAllowed)
}

// write sends body with an exact Content-Length (HTTP/1.0 clients such as
// the demo guest's nc read to the end of it); no body for HEAD.
func write(w http.ResponseWriter, r *http.Request, code int, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r != nil && r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
