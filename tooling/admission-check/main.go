// Command admission-check judges rendered Kubernetes manifests as kube-apiserver would admit
// them, with Kubernetes' own code and without a cluster: every object's metadata (names,
// labels, annotations) by apimachinery's validation, and every pod template by the evaluator of
// the PodSecurity admission plugin (k8s.io/pod-security-admission) at a Pod Security Standard.
//
// Usage: admission-check [-level restricted] [-version latest] MANIFEST.yaml...
//
// Exit status: 0 when every object would be admitted, 1 when one would be refused (each reason
// printed), 2 when the input cannot be read or holds no pod template (an empty render must not
// pass).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// document is one object of a manifest file, as written.
type document struct {
	raw      []byte
	typeMeta metav1.TypeMeta
	meta     metav1.ObjectMeta
}

func (d document) String() string { return d.typeMeta.Kind + "/" + d.meta.Name }

func main() {
	level := flag.String("level", "restricted", "Pod Security Standard: baseline or restricted")
	version := flag.String("version", "latest", `policy version, such as "v1.37" or "latest"`)
	flag.Parse()
	if flag.NArg() == 0 {
		fail("usage: admission-check [-level LEVEL] [-version VERSION] MANIFEST.yaml...")
	}
	standard, err := parseStandard(*level, *version)
	if err != nil {
		fail(err.Error())
	}
	podSecurity, err := newPodSecurity(standard)
	if err != nil {
		fail(err.Error())
	}

	podTemplates, refusals := 0, 0
	for _, path := range flag.Args() {
		documents, err := readDocuments(path)
		if err != nil {
			fail(fmt.Sprintf("%s: %v", path, err))
		}
		for _, doc := range documents {
			problems := metadataProblems(doc)
			if hasPodTemplate(doc) {
				podTemplates++
				found, err := podSecurity.problems(doc)
				if err != nil {
					fail(fmt.Sprintf("%s: %s: %v", path, doc, err))
				}
				problems = append(problems, found...)
			}
			if len(problems) == 0 {
				fmt.Printf("%s: admitted\n", doc)
				continue
			}
			refusals++
			fmt.Printf("%s: refused\n", doc)
			for _, problem := range problems {
				fmt.Printf("  %s\n", problem)
			}
		}
	}
	if podTemplates == 0 {
		fail("no pod template found: nothing was evaluated against " + standard.String())
	}
	if refusals > 0 {
		os.Exit(1)
	}
}

func parseStandard(level, version string) (api.LevelVersion, error) {
	parsedLevel, err := api.ParseLevel(level)
	if err != nil {
		return api.LevelVersion{}, err
	}
	parsedVersion, err := api.ParseVersion(version)
	if err != nil {
		return api.LevelVersion{}, err
	}
	return api.LevelVersion{Level: parsedLevel, Version: parsedVersion}, nil
}

// readDocuments splits a multi-document YAML file; empty documents (a template that rendered
// nothing) are skipped.
func readDocuments(path string) ([]document, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(file))
	var documents []document
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return documents, nil
		}
		if err != nil {
			return nil, err
		}
		var header struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(raw, &header); err != nil {
			return nil, err
		}
		if header.Kind == "" {
			continue
		}
		documents = append(documents, document{raw: raw, typeMeta: header.TypeMeta, meta: header.Metadata})
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "admission-check: "+message)
	os.Exit(2)
}
