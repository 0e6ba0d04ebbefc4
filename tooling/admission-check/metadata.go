package main

import (
	"fmt"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Services are named by DNS-1035 labels (their name becomes a DNS name and environment
// variables); every other kind here by DNS-1123 subdomains, as the API server validates them.
func nameRule(kind string) apivalidation.ValidateNameFunc {
	if kind == "Service" {
		return apivalidation.NameIsDNS1035Label
	}
	return apivalidation.NameIsDNSSubdomain
}

// metadataProblems lists what apimachinery's validation refuses in the object's metadata and,
// for workloads, in its pod template's labels and annotations.
func metadataProblems(doc document) []string {
	meta := doc.meta
	if meta.Namespace == "" {
		// Like kubectl: an object without a namespace is created in the current one.
		meta.Namespace = "default"
	}
	errs := apivalidation.ValidateObjectMeta(&meta, true, nameRule(doc.typeMeta.Kind), field.NewPath("metadata"))
	if hasPodTemplate(doc) && doc.typeMeta.Kind != "Pod" {
		var workload struct {
			Spec struct {
				Template struct {
					Metadata metav1.ObjectMeta `json:"metadata"`
				} `json:"template"`
				Selector *metav1.LabelSelector `json:"selector"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc.raw, &workload); err != nil {
			return []string{err.Error()}
		}
		template := field.NewPath("spec", "template", "metadata")
		errs = append(errs, metav1validation.ValidateLabels(workload.Spec.Template.Metadata.Labels, template.Child("labels"))...)
		errs = append(errs, apivalidation.ValidateAnnotations(workload.Spec.Template.Metadata.Annotations, template.Child("annotations"))...)
		if selector := workload.Spec.Selector; selector != nil {
			errs = append(errs, metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector"))...)
		}
	}
	problems := make([]string, 0, len(errs))
	for _, err := range errs {
		problems = append(problems, fmt.Sprintf("invalid metadata: %v", err))
	}
	return problems
}
