package deploy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/contrib/envconfig"
	"gopkg.in/yaml.v3"
)

// The part of the Kubernetes API the manifests use, with the API's field
// names. Each object is decoded with KnownFields, so a misspelt or
// misplaced field is an error here before it is one at `kubectl apply`.
type (
	objectMeta struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	}
	configMap struct {
		APIVersion string            `yaml:"apiVersion"`
		Kind       string            `yaml:"kind"`
		Metadata   objectMeta        `yaml:"metadata"`
		Data       map[string]string `yaml:"data"`
	}
	deployment struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
		Spec       struct {
			Replicas *int `yaml:"replicas"`
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	job struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
		Spec       struct {
			BackoffLimit            *int        `yaml:"backoffLimit"`
			ActiveDeadlineSeconds   *int        `yaml:"activeDeadlineSeconds"`
			TTLSecondsAfterFinished *int        `yaml:"ttlSecondsAfterFinished"`
			Template                podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	service struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
		Spec       struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	podTemplate struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     podSpec    `yaml:"spec"`
	}
	podSpec struct {
		RestartPolicy                 string              `yaml:"restartPolicy"`
		TerminationGracePeriodSeconds *int                `yaml:"terminationGracePeriodSeconds"`
		AutomountServiceAccountToken  *bool               `yaml:"automountServiceAccountToken"`
		SecurityContext               *podSecurityContext `yaml:"securityContext"`
		Containers                    []container         `yaml:"containers"`
		Volumes                       []volume            `yaml:"volumes"`
	}
	seccompProfile struct {
		Type string `yaml:"type"`
	}
	podSecurityContext struct {
		RunAsNonRoot   *bool           `yaml:"runAsNonRoot"`
		RunAsUser      *int64          `yaml:"runAsUser"`
		RunAsGroup     *int64          `yaml:"runAsGroup"`
		FSGroup        *int64          `yaml:"fsGroup"`
		SeccompProfile *seccompProfile `yaml:"seccompProfile"`
	}
	securityContext struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		RunAsGroup               *int64 `yaml:"runAsGroup"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             *struct {
			Drop []string `yaml:"drop"`
			Add  []string `yaml:"add"`
		} `yaml:"capabilities"`
		SeccompProfile *seccompProfile `yaml:"seccompProfile"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		EnvFrom []struct {
			ConfigMapRef *struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
			SecretRef *struct {
				Name string `yaml:"name"`
			} `yaml:"secretRef"`
		} `yaml:"envFrom"`
		Env []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef *struct {
					Name     string `yaml:"name"`
					Key      string `yaml:"key"`
					Optional *bool  `yaml:"optional"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		StartupProbe   *probe `yaml:"startupProbe"`
		Resources      *struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext *securityContext `yaml:"securityContext"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
		InitialDelaySeconds int `yaml:"initialDelaySeconds"`
		PeriodSeconds       int `yaml:"periodSeconds"`
		FailureThreshold    int `yaml:"failureThreshold"`
	}
	volume struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			DefaultMode *int   `yaml:"defaultMode"`
			Optional    *bool  `yaml:"optional"`
		} `yaml:"secret"`
	}
)

// manifests is every object of deploy/kubernetes, by kind.
type manifests struct {
	configMaps  []configMap
	deployments []deployment
	jobs        []job
	services    []service
}

// workload is a pod template with where it comes from.
type workload struct {
	where       string
	longRunning bool
	labels      map[string]string
	pod         podSpec
}

func (m manifests) workloads() []workload {
	var ws []workload
	for _, d := range m.deployments {
		ws = append(ws, workload{"Deployment " + d.Metadata.Name, true, d.Spec.Template.Metadata.Labels, d.Spec.Template.Spec})
	}
	for _, j := range m.jobs {
		ws = append(ws, workload{"Job " + j.Metadata.Name, false, j.Spec.Template.Metadata.Labels, j.Spec.Template.Spec})
	}
	return ws
}

func decodeStrict(node *yaml.Node, out any) error {
	b, err := yaml.Marshal(node)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(out)
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	var m manifests
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 1; ; i++ {
			var node yaml.Node
			if err := dec.Decode(&node); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s, document %d: %v", file, i, err)
			}
			var head struct {
				Kind string `yaml:"kind"`
			}
			if err := node.Decode(&head); err != nil {
				t.Fatalf("%s, document %d: %v", file, i, err)
			}
			where := file + ", " + head.Kind
			switch head.Kind {
			case "ConfigMap":
				var o configMap
				err = decodeStrict(&node, &o)
				m.configMaps = append(m.configMaps, o)
			case "Deployment":
				var o deployment
				err = decodeStrict(&node, &o)
				m.deployments = append(m.deployments, o)
			case "Job":
				var o job
				err = decodeStrict(&node, &o)
				m.jobs = append(m.jobs, o)
			case "Service":
				var o service
				err = decodeStrict(&node, &o)
				m.services = append(m.services, o)
			default:
				t.Fatalf("%s, document %d: kind %q: teach this test its fields", file, i, head.Kind)
			}
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	}
	if len(m.configMaps) != 1 || len(m.jobs) != 1 || len(m.deployments) != 2 || len(m.services) != 1 {
		t.Fatalf("want a ConfigMap, a Job, two Deployments (worker, api) and a Service; have %d, %d, %d, %d",
			len(m.configMaps), len(m.jobs), len(m.deployments), len(m.services))
	}
	return m
}

// nonroot is the distroless image's nonroot user, which deploy/Dockerfile
// runs as.
const nonroot = 65532

func TestKubernetesSecurityContexts(t *testing.T) {
	for _, w := range loadManifests(t).workloads() {
		p := w.pod
		if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken must be false: pacto does not call the Kubernetes API", w.where)
		}
		sc := p.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s: no pod securityContext", w.where)
		case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot,
			sc.RunAsUser == nil || *sc.RunAsUser != nonroot,
			sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault":
			t.Errorf("%s: pod securityContext wants runAsNonRoot, runAsUser %d and seccompProfile RuntimeDefault: %+v", w.where, nonroot, *sc)
		}
		for _, c := range p.Containers {
			where := w.where + ", container " + c.Name
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s: no securityContext", where)
				continue
			}
			if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != nonroot {
				t.Errorf("%s: want runAsNonRoot and runAsUser %d", where, nonroot)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: want readOnlyRootFilesystem", where)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: want allowPrivilegeEscalation false", where)
			}
			if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s: want capabilities dropped (ALL) and none added", where)
			}
			if sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
				t.Errorf("%s: want seccompProfile RuntimeDefault", where)
			}
		}
	}
}

// release is the version every pacto image of the manifests has.
func release(t *testing.T, m manifests) string {
	t.Helper()
	tags := map[string]bool{}
	for _, w := range m.workloads() {
		for _, c := range w.pod.Containers {
			checkPinned(t, w.where+", container "+c.Name, c.Image)
			_, tag := splitImage(c.Image)
			tags[tag] = true
		}
	}
	if len(tags) != 1 {
		t.Fatalf("the pacto images have %d versions, want one release: %v", len(tags), tags)
	}
	for tag := range tags {
		return tag
	}
	return ""
}

// Migrations run once per release: the Job is named after the release its
// image is, so the next release is a new Job and re-applying this one
// asks for no change to an immutable pod template.
func TestKubernetesMigrateJobOncePerRelease(t *testing.T) {
	m := loadManifests(t)
	version := release(t, m)
	j := m.jobs[0]
	if want := "pacto-migrate-" + strings.ReplaceAll(version, ".", "-"); j.Metadata.Name != want {
		t.Errorf("Job %s runs release %s: name it %s", j.Metadata.Name, version, want)
	}
	for where, labels := range map[string]map[string]string{
		"Job " + j.Metadata.Name: j.Metadata.Labels,
		"its pod template":       j.Spec.Template.Metadata.Labels,
	} {
		if labels["app.kubernetes.io/version"] != version {
			t.Errorf("%s: app.kubernetes.io/version = %q, want %s", where, labels["app.kubernetes.io/version"], version)
		}
	}
	for _, d := range m.deployments {
		if v := d.Spec.Template.Metadata.Labels["app.kubernetes.io/version"]; v != version {
			t.Errorf("Deployment %s: pods labelled version %q, want %s", d.Metadata.Name, v, version)
		}
	}
	if ttl := j.Spec.TTLSecondsAfterFinished; ttl == nil || *ttl <= 0 {
		t.Error("the migrate Job has no ttlSecondsAfterFinished: finished Jobs would pile up, one per release")
	}
	if j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil {
		t.Error("the migrate Job wants backoffLimit and activeDeadlineSeconds, so that a failing one stops")
	}
	if rp := j.Spec.Template.Spec.RestartPolicy; rp != "OnFailure" && rp != "Never" {
		t.Errorf("the migrate Job's restartPolicy is %q", rp)
	}
	var steps []string
	for _, c := range j.Spec.Template.Spec.Containers {
		steps = append(steps, c.Args[0])
	}
	slices.Sort(steps)
	if !slices.Equal(steps, []string{"migrate", "setup"}) {
		t.Errorf("the migrate Job runs %v, want migrate and setup", steps)
	}
}

// portOf resolves a probe's or a Service's port (a name or a number) to a
// port the container declares, or 0.
func portOf(c container, port string) int {
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(p.ContainerPort) == port {
			return p.ContainerPort
		}
	}
	return 0
}

// listenPort returns the port of a listen address such as ":9464" or
// "0.0.0.0:8080".
func listenPort(addr string) int {
	_, port, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(port)
	return n
}

func TestKubernetesProbesAndResources(t *testing.T) {
	m := loadManifests(t)
	// The idle RSS measured with the default build (about 120 MiB); the
	// image's nodev build idles at about 38 MiB.
	const measuredIdle = 120 << 20
	for _, w := range m.workloads() {
		for _, c := range w.pod.Containers {
			where := w.where + ", container " + c.Name
			r := c.Resources
			if r == nil {
				t.Errorf("%s: no resources", where)
				continue
			}
			reqMem, okReqMem := memory(r.Requests["memory"])
			limMem, okLimMem := memory(r.Limits["memory"])
			_, okCPU := cpu(r.Requests["cpu"])
			if !okReqMem || !okLimMem || !okCPU {
				t.Errorf("%s: want requests of cpu and memory and a memory limit, have %+v", where, *r)
				continue
			}
			if limMem < reqMem {
				t.Errorf("%s: memory limit %s below its request %s", where, r.Limits["memory"], r.Requests["memory"])
			}
			if w.longRunning && reqMem <= measuredIdle {
				t.Errorf("%s: requests %s, not above the measured idle RSS", where, r.Requests["memory"])
			}
			if !w.longRunning {
				continue
			}
			for name, p := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if p == nil || p.HTTPGet == nil {
					t.Errorf("%s: no %s probe", where, name)
					continue
				}
				want := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}[name]
				if p.HTTPGet.Path != want {
					t.Errorf("%s: %s probe on %s, want %s", where, name, p.HTTPGet.Path, want)
				}
				port := portOf(c, p.HTTPGet.Port)
				if port == 0 {
					t.Errorf("%s: %s probe on port %q, which the container does not declare", where, name, p.HTTPGet.Port)
					continue
				}
				// The port the process listens on is the probe's.
				var listens int
				switch c.Args[0] {
				case "worker":
					for _, a := range c.Args {
						if v, ok := strings.CutPrefix(a, "--metrics-addr="); ok {
							listens = listenPort(v)
						}
					}
				case "api":
					for _, e := range c.Env {
						if e.Name == "PACTO_HTTP" {
							listens = listenPort(e.Value)
						}
					}
				}
				if listens != port {
					t.Errorf("%s: %s probe on port %d, but %s listens on %d", where, name, port, c.Args[0], listens)
				}
			}
		}
	}
}

func TestKubernetesSelectors(t *testing.T) {
	m := loadManifests(t)
	var api *deployment
	for i, d := range m.deployments {
		for k, v := range d.Spec.Selector.MatchLabels {
			if d.Spec.Template.Metadata.Labels[k] != v {
				t.Errorf("Deployment %s: selector %s=%s does not select its own pods", d.Metadata.Name, k, v)
			}
		}
		if len(d.Spec.Selector.MatchLabels) == 0 {
			t.Errorf("Deployment %s: empty selector", d.Metadata.Name)
		}
		if d.Spec.Template.Spec.Containers[0].Args[0] == "api" {
			api = &m.deployments[i]
		}
	}
	if api == nil {
		t.Fatal("no Deployment runs pacto api")
	}
	s := m.services[0]
	for k, v := range s.Spec.Selector {
		if api.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service %s: selector %s=%s does not select the API's pods", s.Metadata.Name, k, v)
		}
	}
	for _, p := range s.Spec.Ports {
		if portOf(api.Spec.Template.Spec.Containers[0], p.TargetPort) == 0 {
			t.Errorf("Service %s: targetPort %q is not a port of the API container", s.Metadata.Name, p.TargetPort)
		}
	}
}

// Every container that talks to Temporal has what Temporal Cloud asks:
// the client certificate and key mounted read-only from a Secret where the
// ConfigMap's TEMPORAL_TLS_CLIENT_*_PATH say, and the API key from a
// Secret.
func TestKubernetesTemporalCloudSecrets(t *testing.T) {
	m := loadManifests(t)
	data := m.configMaps[0].Data
	certPath, keyPath := data["TEMPORAL_TLS_CLIENT_CERT_PATH"], data["TEMPORAL_TLS_CLIENT_KEY_PATH"]
	if certPath == "" || keyPath == "" || path.Dir(certPath) != path.Dir(keyPath) {
		t.Fatalf("ConfigMap %s: want TEMPORAL_TLS_CLIENT_CERT_PATH and _KEY_PATH in one directory, have %q and %q", m.configMaps[0].Metadata.Name, certPath, keyPath)
	}
	// A kubernetes.io/tls Secret holds tls.crt and tls.key.
	if path.Base(certPath) != "tls.crt" || path.Base(keyPath) != "tls.key" {
		t.Errorf("the TLS paths %s and %s are not a kubernetes.io/tls Secret's keys", certPath, keyPath)
	}
	talks := 0
	for _, w := range m.workloads() {
		volumes := map[string]volume{}
		for _, v := range w.pod.Volumes {
			volumes[v.Name] = v
		}
		for _, c := range w.pod.Containers {
			where := w.where + ", container " + c.Name
			var fromConfig, fromSecret bool
			for _, e := range c.EnvFrom {
				fromConfig = fromConfig || e.ConfigMapRef != nil && e.ConfigMapRef.Name == m.configMaps[0].Metadata.Name
				fromSecret = fromSecret || e.SecretRef != nil
			}
			if !fromConfig || !fromSecret {
				t.Errorf("%s: want envFrom the ConfigMap and the Secret", where)
			}
			if !slices.Contains([]string{"api", "worker", "setup", "serve"}, c.Args[0]) {
				continue
			}
			talks++
			mounted := false
			for _, vm := range c.VolumeMounts {
				v, ok := volumes[vm.Name]
				if vm.MountPath == path.Dir(certPath) && ok && v.Secret != nil {
					mounted = true
					if !vm.ReadOnly {
						t.Errorf("%s: the TLS Secret is mounted writable", where)
					}
					// Read-only to the owner and the pod's fsGroup.
					if m := v.Secret.DefaultMode; m == nil || *m&^0o440 != 0 {
						t.Errorf("%s: the TLS Secret's defaultMode lets others read, or anyone write or run, the key", where)
					}
				}
			}
			if !mounted {
				t.Errorf("%s: nothing mounts a Secret at %s", where, path.Dir(certPath))
			}
			apiKey := false
			for _, e := range c.Env {
				if e.Name == "TEMPORAL_API_KEY" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					apiKey = true
				}
			}
			if !apiKey {
				t.Errorf("%s: TEMPORAL_API_KEY does not come from a Secret", where)
			}
		}
	}
	if talks < 3 {
		t.Errorf("%d containers talk to Temporal; want the worker, the API and setup", talks)
	}
}

// The ConfigMap's Temporal settings, with the Secret's files where they
// are mounted, make the SDK's environment configuration (which
// app.DialTemporal reads) dial with the client certificate; and the API
// key variable gives it credentials.
func TestTemporalCloudSettingsReachTheClient(t *testing.T) {
	m := loadManifests(t)
	data := m.configMaps[0].Data
	mount := path.Dir(data["TEMPORAL_TLS_CLIENT_CERT_PATH"])
	dir := t.TempDir()
	writeClientCert(t, filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))

	// No temporal.toml of the machine's.
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(dir, "absent.toml"))
	for k, v := range data {
		if strings.HasPrefix(k, "TEMPORAL_") {
			// The mount, here.
			t.Setenv(k, strings.Replace(v, mount, dir, 1))
		}
	}
	// Nor any other Temporal setting of the machine's.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := data[k]; strings.HasPrefix(k, "TEMPORAL_") && !ours && k != "TEMPORAL_CONFIG_FILE" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		t.Fatalf("the ConfigMap's settings: %v", err)
	}
	if opts.HostPort != data["TEMPORAL_ADDRESS"] || opts.Namespace != data["TEMPORAL_NAMESPACE"] {
		t.Errorf("client dials %s, namespace %s; want the ConfigMap's", opts.HostPort, opts.Namespace)
	}
	if opts.ConnectionOptions.TLS == nil || len(opts.ConnectionOptions.TLS.Certificates) != 1 {
		t.Fatal("the client does not present the mounted certificate")
	}
	if opts.Credentials != nil {
		t.Error("credentials without an API key")
	}

	t.Setenv("TEMPORAL_API_KEY", "placeholder-api-key")
	opts, err = envconfig.LoadDefaultClientOptions()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Credentials == nil {
		t.Error("TEMPORAL_API_KEY gives the client no credentials")
	}
}

// writeClientCert writes a self-signed client certificate and its key as
// PEM, as a kubernetes.io/tls Secret holds them.
func writeClientCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pacto"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}
