// A registry with the OCI 1.1 referrers API for repro's integration tests.
//
// The registry is Debian's go-containerregistry pkg/registry (manifests in memory, blobs
// on disk); scripts/lib/registries.sh builds and starts it (and says why this one). Its
// referrers support (0.20.1) falls short of distribution-spec v1.1 in three ways, which
// the thin layer below fixes so that clients meet the API as the spec describes it:
//   - a manifest PUT with a subject gets no OCI-Subject header, so clients (oras) cannot
//     tell that the API exists and fall back to the referrers tag schema;
//   - each referrer's artifactType is the config mediaType even when the manifest has
//     an artifactType, and the manifest's annotations are not copied;
//   - ?artifactType= is ignored (then OCI-Filters-Applied must be absent; we filter and
//     set it) and the order is a Go map's (we sort by digest).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

const maxManifestBytes = 4 << 20

type referenced struct {
	ArtifactType string `json:"artifactType"`
	Config       struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Subject *struct {
		Digest string `json:"digest"`
	} `json:"subject"`
	Annotations map[string]string `json:"annotations"`
}

// pathParts splits /v2/<name>/<kind>/<ref> into name, kind and ref.
func pathParts(path string) (name, kind, ref string, ok bool) {
	elems := strings.Split(strings.TrimPrefix(path, "/v2/"), "/")
	if len(elems) < 3 {
		return "", "", "", false
	}
	n := len(elems)
	return strings.Join(elems[:n-2], "/"), elems[n-2], elems[n-1], true
}

type subjectHeaderWriter struct {
	http.ResponseWriter
	subject string
}

func (w *subjectHeaderWriter) WriteHeader(status int) {
	if status == http.StatusCreated && w.subject != "" {
		w.Header().Set("OCI-Subject", w.subject)
	}
	w.ResponseWriter.WriteHeader(status)
}

func withSpecReferrers(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(resp http.ResponseWriter, req *http.Request) {
		name, kind, ref, ok := pathParts(req.URL.Path)
		switch {
		case ok && kind == "manifests" && req.Method == http.MethodPut:
			body, err := io.ReadAll(io.LimitReader(req.Body, maxManifestBytes+1))
			if err != nil || len(body) > maxManifestBytes {
				http.Error(resp, `{"errors":[{"code":"SIZE_INVALID","message":"manifest too large"}]}`, http.StatusRequestEntityTooLarge)
				return
			}
			var m referenced
			subject := ""
			if json.Unmarshal(body, &m) == nil && m.Subject != nil {
				subject = m.Subject.Digest
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
			inner.ServeHTTP(&subjectHeaderWriter{resp, subject}, req)
		case ok && kind == "referrers" && req.Method == http.MethodGet:
			serveReferrers(inner, resp, req, name, ref)
		default:
			inner.ServeHTTP(resp, req)
		}
	})
}

func serveReferrers(inner http.Handler, resp http.ResponseWriter, req *http.Request, name, ref string) {
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, req)
	var index map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &index) != nil {
		for k, v := range rec.Header() {
			resp.Header()[k] = v
		}
		resp.WriteHeader(rec.Code)
		resp.Write(rec.Body.Bytes())
		return
	}
	wanted := req.URL.Query().Get("artifactType")
	descriptors, _ := index["manifests"].([]any)
	kept := []any{}
	for _, item := range descriptors {
		desc, _ := item.(map[string]any)
		digest, _ := desc["digest"].(string)
		get := httptest.NewRequest(http.MethodGet, "/v2/"+name+"/manifests/"+digest, nil)
		got := httptest.NewRecorder()
		inner.ServeHTTP(got, get)
		var m referenced
		if got.Code == http.StatusOK && json.Unmarshal(got.Body.Bytes(), &m) == nil {
			if m.ArtifactType != "" {
				desc["artifactType"] = m.ArtifactType
			} else {
				desc["artifactType"] = m.Config.MediaType
			}
			if len(m.Annotations) > 0 {
				desc["annotations"] = m.Annotations
			}
		}
		if wanted == "" || desc["artifactType"] == wanted {
			kept = append(kept, desc)
		}
	}
	sort.Slice(kept, func(i, j int) bool {
		a, _ := kept[i].(map[string]any)["digest"].(string)
		b, _ := kept[j].(map[string]any)["digest"].(string)
		return a < b
	})
	index["manifests"] = kept
	body, _ := json.Marshal(index)
	resp.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	resp.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if wanted != "" {
		resp.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	resp.WriteHeader(http.StatusOK)
	resp.Write(body)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5446", "address to listen on")
	blobs := flag.String("blobs", "", "directory for blobs (default: in memory)")
	flag.Parse()

	logger := log.New(os.Stderr, "", log.LstdFlags)
	options := []registry.Option{registry.WithReferrersSupport(true), registry.Logger(logger)}
	if *blobs != "" {
		options = append(options, registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobs)))
	}
	server := &http.Server{
		Addr:              *addr,
		Handler:           withSpecReferrers(registry.New(options...)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	logger.Printf("serving the referrers registry on %s", *addr)
	logger.Fatal(server.ListenAndServe())
}
