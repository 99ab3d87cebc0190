# Release builds: `docker buildx bake` builds and tags the three images.
variable "VERSION" {
  default = "1.4.0"
}

group "default" {
  targets = ["app", "worker", "site"]
}

target "app" {
  context = "app"
  tags    = ["localhost:5000/harbour/app:${VERSION}"]
}

target "worker" {
  inherits   = ["app"]
  dockerfile = "worker.Dockerfile"
  tags       = ["localhost:5000/harbour/worker:${VERSION}"]
}

# The site ships for two platforms, with the version in its title.
target "site" {
  context   = "site"
  args      = { SITE_TITLE = "Harbour ${VERSION}" }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["localhost:5000/harbour/site:${VERSION}"]
}
