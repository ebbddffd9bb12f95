// Package e2e holds the product's end-to-end tests: the real processor and
// maintenance zips deployed on a local AWS (internal/localaws) with the
// module's default settings, driven as producers and operators would.
package e2e
