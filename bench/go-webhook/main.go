// The Go webhook a platform team would write instead of faas-admission, for the benchmark only:
// volume-extension as one hand-written net/http handler, stdlib JSON into structs of the fields it
// reads, the patch built by hand, a Prometheus histogram and counter (client_golang), HTTPS with
// TLS 1.2+. It checks what volume-extension checks on the benchmark's review (DNS-1123 volume
// names, one source per volume, hostPath under an allowed prefix, absolute and distinct mount
// paths, mounts naming a volume) and nothing more: no zod-grade messages, no copy-on-write diff,
// no tracing, no v1beta1, no other functions. Built from Debian's Go and packages (GOPATH mode).
//
//	PORT=0 TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key ALLOWED_HOSTPATH_PREFIXES=/usr/local/nagent4docker ./go-webhook
package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	prefix          = "knative.netease.dev"
	targetContainer = "user-container"
)

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	duration     = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "admission_review_duration_seconds",
		Help:    "Time from a review arriving to its answer being ready.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30},
	}, []string{"function", "operation", "outcome"})
	reviews = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "admission_reviews_total",
		Help: "Reviews by outcome.",
	}, []string{"function", "operation", "outcome"})
	allowedPrefixes = strings.Split(os.Getenv("ALLOWED_HOSTPATH_PREFIXES"), ",")
)

type review struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Request    *request `json:"request,omitempty"`
	Response   *reply   `json:"response,omitempty"`
}

type request struct {
	UID       string                    `json:"uid"`
	Operation string                    `json:"operation"`
	Resource  struct{ Resource string } `json:"resource"`
	Object    json.RawMessage           `json:"object"`
}

type reply struct {
	UID       string  `json:"uid"`
	Allowed   bool    `json:"allowed"`
	PatchType string  `json:"patchType,omitempty"`
	Patch     []byte  `json:"patch,omitempty"` // encoding/json writes []byte as base64
	Status    *status `json:"status,omitempty"`
}

type status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type mount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
}

type pod struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Volumes    []struct{ Name string } `json:"volumes"`
		Containers []struct {
			Name         string  `json:"name"`
			VolumeMounts []mount `json:"volumeMounts"`
		} `json:"containers"`
	} `json:"spec"`
}

type operation struct {
	Op    string      `json:"op"`
	Path  string      `json:"path"`
	Value interface{} `json:"value"`
}

// mutate returns the patch for the pod, or a denial message.
func mutate(raw json.RawMessage) ([]operation, string) {
	var p pod
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, "object: " + err.Error()
	}
	var volumes []map[string]interface{}
	var mounts []mount
	if text, ok := p.Metadata.Annotations[prefix+"/volumes"]; ok {
		if err := json.Unmarshal([]byte(text), &volumes); err != nil {
			return nil, fmt.Sprintf("annotation %s/volumes: %v", prefix, err)
		}
	}
	if text, ok := p.Metadata.Annotations[prefix+"/volumeMounts"]; ok {
		if err := json.Unmarshal([]byte(text), &mounts); err != nil {
			return nil, fmt.Sprintf("annotation %s/volumeMounts: %v", prefix, err)
		}
	}
	if len(volumes) == 0 && len(mounts) == 0 {
		return nil, ""
	}

	names := map[string]bool{}
	for _, v := range p.Spec.Volumes {
		names[v.Name] = true
	}
	var ops []operation
	hasVolumes := p.Spec.Volumes != nil
	for i, v := range volumes {
		name, _ := v["name"].(string)
		if !dns1123Label.MatchString(name) {
			return nil, fmt.Sprintf("annotation %s/volumes: item %d: name: %q must be a lowercase RFC 1123 label", prefix, i, name)
		}
		if len(v) != 2 {
			return nil, fmt.Sprintf("annotation %s/volumes: item %d: must have exactly one volume source", prefix, i)
		}
		if hostPath, ok := v["hostPath"].(map[string]interface{}); ok && !allowedHostPath(hostPath["path"]) {
			return nil, fmt.Sprintf("annotation %s/volumes: item %d: hostPath %v is not allowed", prefix, i, hostPath["path"])
		}
		if names[name] {
			continue
		}
		names[name] = true
		if hasVolumes {
			ops = append(ops, operation{"add", "/spec/volumes/-", v})
		} else {
			ops = append(ops, operation{"add", "/spec/volumes", []interface{}{v}})
			hasVolumes = true
		}
	}

	index := -1
	for i, c := range p.Spec.Containers {
		if c.Name == targetContainer {
			index = i
		}
	}
	if index < 0 {
		return nil, "no container named " + targetContainer
	}
	container := p.Spec.Containers[index]
	paths := map[string]string{}
	for _, m := range container.VolumeMounts {
		paths[m.MountPath] = m.Name
	}
	hasMounts := container.VolumeMounts != nil
	base := fmt.Sprintf("/spec/containers/%d/volumeMounts", index)
	for i, m := range mounts {
		if !names[m.Name] {
			return nil, fmt.Sprintf("annotation %s/volumeMounts: item %d: no volume named %q", prefix, i, m.Name)
		}
		if !strings.HasPrefix(m.MountPath, "/") {
			return nil, fmt.Sprintf("annotation %s/volumeMounts: item %d: mountPath must be absolute", prefix, i)
		}
		if existing, ok := paths[m.MountPath]; ok {
			if existing == m.Name {
				continue
			}
			return nil, fmt.Sprintf("annotation %s/volumeMounts: item %d: mountPath %s is already used", prefix, i, m.MountPath)
		}
		paths[m.MountPath] = m.Name
		if hasMounts {
			ops = append(ops, operation{"add", base + "/-", m})
		} else {
			ops = append(ops, operation{"add", base, []mount{m}})
			hasMounts = true
		}
	}
	return ops, ""
}

func allowedHostPath(path interface{}) bool {
	text, _ := path.(string)
	for _, allowed := range allowedPrefixes {
		if allowed != "" && (text == allowed || strings.HasPrefix(text, allowed+"/")) {
			return true
		}
	}
	return false
}

func handle(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var in review
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Request == nil || in.Request.UID == "" {
		http.Error(w, `{"code":400,"message":"invalid AdmissionReview"}`, http.StatusBadRequest)
		return
	}
	out := review{APIVersion: in.APIVersion, Kind: "AdmissionReview", Response: &reply{UID: in.Request.UID, Allowed: true}}
	outcome := "allowed"
	if in.Request.Resource.Resource == "pods" && in.Request.Operation == "CREATE" {
		ops, denial := mutate(in.Request.Object)
		switch {
		case denial != "":
			out.Response.Allowed = false
			out.Response.Status = &status{Code: 400, Message: denial}
			outcome = "denied"
		case len(ops) > 0:
			patch, _ := json.Marshal(ops)
			out.Response.PatchType = "JSONPatch"
			out.Response.Patch = patch
			outcome = "patched"
		}
	}
	body, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	duration.WithLabelValues("volume-extension", in.Request.Operation, outcome).Observe(time.Since(start).Seconds())
	reviews.WithLabelValues("volume-extension", in.Request.Operation, outcome).Inc()
}

func main() {
	prometheus.MustRegister(duration, reviews)
	metrics, err := net.Listen("tcp", "127.0.0.1:"+envOr("METRICS_PORT", "0"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go http.Serve(metrics, promhttp.Handler())

	listener, err := net.Listen("tcp", "127.0.0.1:"+envOr("PORT", "8443"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("go webhook listening on port %d\n", listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{
		Handler:           http.HandlerFunc(handle),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	err = server.ServeTLS(listener, os.Getenv("TLS_CERT_FILE"), os.Getenv("TLS_KEY_FILE"))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}
