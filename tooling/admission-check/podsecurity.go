package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// The kinds whose pod template the PodSecurity plugin evaluates: the ones its
// DefaultPodSpecExtractor (k8s.io/pod-security-admission/admission) knows. podTemplate below does
// what that extractor does; importing it would pull in the API server's metrics and double the
// build time.
var podTemplateKinds = map[string]bool{
	"Pod": true, "PodTemplate": true, "ReplicationController": true, "ReplicaSet": true,
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "Job": true, "CronJob": true,
}

func hasPodTemplate(doc document) bool { return podTemplateKinds[doc.typeMeta.Kind] }

type podSecurity struct {
	standard  api.LevelVersion
	evaluator policy.Evaluator
	decoder   runtime.Decoder
}

func newPodSecurity(standard api.LevelVersion) (*podSecurity, error) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	// Strict, like the API server's field validation: an unknown or duplicated field is an
	// error, not silently dropped (a misspelt securityContext key would otherwise pass).
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	return &podSecurity{standard: standard, evaluator: evaluator, decoder: decoder}, nil
}

// problems lists what the Pod Security Standard forbids in the document's pod template.
func (p *podSecurity) problems(doc document) ([]string, error) {
	object, _, err := p.decoder.Decode(doc.raw, nil, nil)
	if err != nil {
		return nil, err
	}
	podMeta, podSpec := podTemplate(object)
	if podSpec == nil {
		return nil, fmt.Errorf("no pod template")
	}
	result := policy.AggregateCheckResults(p.evaluator.EvaluatePod(p.standard, podMeta, podSpec))
	var problems []string
	for i, reason := range result.ForbiddenReasons {
		problems = append(problems, fmt.Sprintf("violates PodSecurity %q: %s (%s)",
			p.standard.String(), reason, result.ForbiddenDetails[i]))
	}
	return problems, nil
}

// podTemplate returns the metadata and spec of the pods an object makes, or nil.
func podTemplate(object runtime.Object) (*metav1.ObjectMeta, *corev1.PodSpec) {
	var template *corev1.PodTemplateSpec
	switch o := object.(type) {
	case *corev1.Pod:
		return &o.ObjectMeta, &o.Spec
	case *corev1.PodTemplate:
		template = &o.Template
	case *corev1.ReplicationController:
		template = o.Spec.Template
	case *appsv1.ReplicaSet:
		template = &o.Spec.Template
	case *appsv1.Deployment:
		template = &o.Spec.Template
	case *appsv1.StatefulSet:
		template = &o.Spec.Template
	case *appsv1.DaemonSet:
		template = &o.Spec.Template
	case *batchv1.Job:
		template = &o.Spec.Template
	case *batchv1.CronJob:
		template = &o.Spec.JobTemplate.Spec.Template
	}
	if template == nil {
		return nil, nil
	}
	return &template.ObjectMeta, &template.Spec
}
