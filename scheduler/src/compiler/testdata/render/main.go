// Command render renders the compiler's templates with Go's own text/template, as consul-template does inside
// Nomad, with stub nomadVar / secret / service / nomadService functions serving the values it is given, then parses
// every env template's output with github.com/hashicorp/go-envparse, the parser Nomad uses for `env = true`
// templates. Input (stdin) and output (stdout) are JSON. Unknown paths and service names are errors, so a template
// asking for the wrong variable path or KV version fails.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/template"

	"github.com/hashicorp/go-envparse"
)

type tmplIn struct {
	Text  string `json:"text"`
	Env   bool   `json:"env"`
	Left  string `json:"left"`
	Right string `json:"right"`
}

type instance struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
}

type input struct {
	Templates []tmplIn                     `json:"templates"`
	NomadVars map[string]map[string]string `json:"nomadVars"`
	Secrets   map[string]map[string]string `json:"secrets"`
	Services  map[string][]instance        `json:"services"`
}

type result struct {
	Raw   string            `json:"raw"`
	Env   map[string]string `json:"env"`
	Error string            `json:"error,omitempty"`
}

type output struct {
	Results []result `json:"results"`
	Calls   []string `json:"calls"`
}

// NomadVarItem mirrors consul-template's dependency.NomadVarItem, including its %q MarshalJSON.
type NomadVarItem struct {
	Key, Value string
}

func (v NomadVarItem) String() string               { return v.Value }
func (v NomadVarItem) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", v.Value)), nil }

// NomadVarItems mirrors consul-template's dependency.NomadVarItems.
type NomadVarItems map[string]NomadVarItem

// Secret mirrors the fields of consul-template's dependency.Secret that templates use.
type Secret struct {
	Data map[string]interface{}
}

// HealthService mirrors the fields of consul-template's dependency.HealthService used by templates.
type HealthService struct {
	Node    string
	Address string
	Port    int
}

// NomadService mirrors the fields of consul-template's dependency.NomadService used by templates.
type NomadService struct {
	Name    string
	Address string
	Port    int
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "render: bad input:", err)
		os.Exit(2)
	}
	out := output{Results: []result{}, Calls: []string{}}
	funcs := template.FuncMap{
		"nomadVar": func(path string) (NomadVarItems, error) {
			out.Calls = append(out.Calls, "nomadVar "+path)
			items, ok := in.NomadVars[path]
			if !ok {
				return nil, fmt.Errorf("no Nomad variable at %q", path)
			}
			res := NomadVarItems{}
			for k, v := range items {
				res[k] = NomadVarItem{Key: k, Value: v}
			}
			return res, nil
		},
		"secret": func(path string) (*Secret, error) {
			out.Calls = append(out.Calls, "secret "+path)
			items, ok := in.Secrets[path]
			if !ok {
				return nil, fmt.Errorf("no Vault secret at %q", path)
			}
			data := map[string]interface{}{}
			for k, v := range items {
				data[k] = v
			}
			return &Secret{Data: map[string]interface{}{"data": data, "metadata": map[string]interface{}{}}}, nil
		},
		"service": func(name string) ([]*HealthService, error) {
			out.Calls = append(out.Calls, "service "+name)
			list, ok := in.Services[name]
			if !ok {
				return nil, fmt.Errorf("unknown service %q", name)
			}
			res := []*HealthService{}
			for _, i := range list {
				res = append(res, &HealthService{Node: "n1", Address: i.Address, Port: i.Port})
			}
			return res, nil
		},
		"nomadService": func(name string) ([]*NomadService, error) {
			out.Calls = append(out.Calls, "nomadService "+name)
			list, ok := in.Services[name]
			if !ok {
				return nil, fmt.Errorf("unknown service %q", name)
			}
			res := []*NomadService{}
			for _, i := range list {
				res = append(res, &NomadService{Name: name, Address: i.Address, Port: i.Port})
			}
			return res, nil
		},
		// toJSON is consul-template's: json.Marshal, trimmed.
		"toJSON": func(v interface{}) (string, error) {
			b, err := json.Marshal(v)
			if err != nil {
				return "", err
			}
			return string(bytes.TrimSpace(b)), nil
		},
	}
	for _, t := range in.Templates {
		r := result{}
		tpl, err := template.New("t").Delims(t.Left, t.Right).Option("missingkey=zero").Funcs(funcs).Parse(t.Text)
		if err != nil {
			r.Error = "parse: " + err.Error()
			out.Results = append(out.Results, r)
			continue
		}
		var buf bytes.Buffer
		if err := tpl.Execute(&buf, nil); err != nil {
			r.Error = "execute: " + err.Error()
			out.Results = append(out.Results, r)
			continue
		}
		r.Raw = buf.String()
		if t.Env {
			env, err := envparse.Parse(bytes.NewReader(buf.Bytes()))
			if err != nil {
				r.Error = "envparse: " + err.Error()
			}
			r.Env = env
		}
		out.Results = append(out.Results, r)
	}
	sort.Strings(out.Calls)
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}
