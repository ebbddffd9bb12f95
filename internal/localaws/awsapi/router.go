package awsapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Query is a Query-protocol request's form and raw body.
type Query struct {
	Form url.Values
	Body []byte
}

// QueryHandlerFunc serves a Query-protocol action.
type QueryHandlerFunc func(w http.ResponseWriter, r *http.Request, q Query)

// Router is the registry from an operation, named the way AWS names it, to
// the handler that owns it:
//   - JSON protocols: the X-Amz-Target header, "Service.Operation";
//   - REST protocols (and the local AWS's own admin paths): a method and path
//     pattern in http.ServeMux syntax, wildcards read with r.PathValue;
//   - the Query protocol: the Action of a signing service. Every service
//     shares this one endpoint, so the service is the one in the request's
//     SigV4 credential scope (AWS itself tells them apart by host name).
//
// What no handler owns goes to kumo.
type Router struct {
	targets map[string]http.Handler
	rest    *http.ServeMux
	routes  map[string]bool // the REST patterns registered
	query   map[string]QueryHandlerFunc
}

// NewRouter returns an empty router.
func NewRouter() *Router {
	return &Router{targets: map[string]http.Handler{}, rest: http.NewServeMux(), routes: map[string]bool{}, query: map[string]QueryHandlerFunc{}}
}

// Target registers h for the JSON-protocol operation service.op
// (e.g. "AmazonSQS", "CreateQueue").
func (rt *Router) Target(service, op string, h http.HandlerFunc) {
	rt.targets[service+"."+op] = h
}

// REST registers h for a ServeMux pattern ("GET /2015-03-31/functions/{name}").
func (rt *Router) REST(pattern string, h http.HandlerFunc) {
	rt.rest.HandleFunc(pattern, h)
	rt.routes[pattern] = true
}

// Query registers h for a Query-protocol action of a signing service
// (e.g. "monitoring", "PutMetricAlarm").
func (rt *Router) Query(signingService, action string, h QueryHandlerFunc) {
	rt.query[signingService+"."+action] = h
}

// Lookup returns the handler that owns r, or nil when none does.
func (rt *Router) Lookup(r *http.Request) http.Handler {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return rt.targets[target]
	}
	// The mux would redirect a path it cleans: such a request is not ours.
	if _, pattern := rt.rest.Handler(r); rt.routes[pattern] && isClean(r.URL.Path) {
		return rt.rest // serves through the mux, which sets the path values
	}
	if service := SigningService(r); service != "" {
		if form, body, ok := QueryForm(r); ok {
			if h := rt.query[service+"."+form.Get("Action")]; h != nil {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, Query{Form: form, Body: body}) })
			}
		}
	}
	return nil
}

// isClean reports whether p has no empty, "." or ".." segment.
func isClean(p string) bool {
	c := path.Clean(p)
	return c == p || c+"/" == p
}

// SigningService returns the service named in a SigV4 Authorization
// header's credential scope (AKID/date/region/service/aws4_request), or "".
func SigningService(r *http.Request) string { return credentialScope(r, 3) }

// SigningRegion returns the region of a SigV4 credential scope, or "": on
// AWS, the region of the endpoint the request went to.
func SigningRegion(r *http.Request) string { return credentialScope(r, 2) }

// credentialScope is part i of AKID/date/region/service/aws4_request.
func credentialScope(r *http.Request, i int) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[i]
}
