// Package awsapi holds what every emulated service of the local AWS shares:
// the router that finds the handler owning an operation, and the helpers
// that read requests and write answers and errors in AWS's protocols (JSON,
// REST-JSON, Query/XML).
package awsapi
