// Package v1 stands in for github.com/openshift/api/apps/v1 in the test bed's Reloader build
// (see ../../../go.mod): the few DeploymentConfig fields a reload touches, and nothing else.
package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GroupName is the API group of DeploymentConfigs.
const GroupName = "apps.openshift.io"

// DeploymentConfig is OpenShift's predecessor of a Deployment.
type DeploymentConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DeploymentConfigSpec `json:"spec"`
}

// DeploymentConfigSpec carries the pod template that a reload annotates.
type DeploymentConfigSpec struct {
	Strategy DeploymentStrategy      `json:"strategy"`
	Replicas int32                   `json:"replicas"`
	Paused   bool                    `json:"paused,omitempty"`
	Template *corev1.PodTemplateSpec `json:"template,omitempty"`
}

// DeploymentStrategy says how a new revision replaces the old one.
type DeploymentStrategy struct {
	Type DeploymentStrategyType `json:"type,omitempty"`
}

// DeploymentStrategyType names a strategy.
type DeploymentStrategyType string

// DeploymentStrategyTypeRolling replaces pods a few at a time.
const DeploymentStrategyTypeRolling DeploymentStrategyType = "Rolling"

// DeploymentConfigList is a page of DeploymentConfigs.
type DeploymentConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DeploymentConfig `json:"items"`
}
