// Package debiane2e boots a stock Debian 12 cloud image (images/debian,
// built from Debian's packages with nothing Kumo-specific inside) through
// the path a user takes: `kumo dev` as a real process, the image uploaded
// to S3 and imported with ImportImage, a key pair, RunInstances with
// #cloud-config user data, then OpenSSH from the host to the private IP.
// Unmodified cloud-init is the judge of the metadata service, not the demo
// image.
//
// The test needs root, QEMU, mmdebstrap and OpenSSH's client; it builds
// the image on first use (cached, see images/debian/debiantest). Under TCG
// a boot to SSH takes 50-90 s, so the whole test takes several minutes:
// scripts/test.sh runs it as its own step, after building the image in the
// background while the other tests run.
package debiane2e
