// Package versioned stands in for OpenShift's generated apps clientset in the test bed's
// Reloader build (see ../../../../go.mod): the calls Reloader's code links, over a plain REST
// client with JSON bodies. Reloader only creates it when the cluster serves
// project.openshift.io, which the test bed never does.
package versioned

import (
	"context"
	"encoding/json"

	appsv1 "github.com/openshift/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// Interface is what Reloader holds on to.
type Interface interface {
	AppsV1() AppsV1Interface
}

// AppsV1Interface reaches DeploymentConfigs by namespace.
type AppsV1Interface interface {
	DeploymentConfigs(namespace string) DeploymentConfigInterface
}

// DeploymentConfigInterface covers the calls Reloader makes.
type DeploymentConfigInterface interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*appsv1.DeploymentConfig, error)
	Create(ctx context.Context, dc *appsv1.DeploymentConfig, opts metav1.CreateOptions) (*appsv1.DeploymentConfig, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// Clientset implements Interface over one REST client for apps.openshift.io/v1.
type Clientset struct {
	rest rest.Interface
}

// NewForConfig builds a Clientset for this rest.Config.
func NewForConfig(c *rest.Config) (*Clientset, error) {
	config := *c
	config.GroupVersion = &schema.GroupVersion{Group: appsv1.GroupName, Version: "v1"}
	config.APIPath = "/apis"
	config.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	if config.UserAgent == "" {
		config.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	client, err := rest.RESTClientFor(&config)
	if err != nil {
		return nil, err
	}
	return &Clientset{rest: client}, nil
}

// AppsV1 returns the client itself: it only serves apps.openshift.io/v1.
func (c *Clientset) AppsV1() AppsV1Interface { return c }

// DeploymentConfigs returns a client for one namespace.
func (c *Clientset) DeploymentConfigs(namespace string) DeploymentConfigInterface {
	return deploymentConfigs{rest: c.rest, namespace: namespace}
}

type deploymentConfigs struct {
	rest      rest.Interface
	namespace string
}

func (d deploymentConfigs) Get(
	ctx context.Context, name string, _ metav1.GetOptions,
) (*appsv1.DeploymentConfig, error) {
	raw, err := d.rest.Get().Namespace(d.namespace).Resource("deploymentconfigs").Name(name).
		Do(ctx).Raw()
	return decode(raw, err)
}

func (d deploymentConfigs) Create(
	ctx context.Context, dc *appsv1.DeploymentConfig, _ metav1.CreateOptions,
) (*appsv1.DeploymentConfig, error) {
	body, err := json.Marshal(dc)
	if err != nil {
		return nil, err
	}
	raw, err := d.rest.Post().Namespace(d.namespace).Resource("deploymentconfigs").
		Body(body).Do(ctx).Raw()
	return decode(raw, err)
}

func (d deploymentConfigs) Delete(ctx context.Context, name string, _ metav1.DeleteOptions) error {
	return d.rest.Delete().Namespace(d.namespace).Resource("deploymentconfigs").Name(name).
		Do(ctx).Error()
}

func decode(raw []byte, err error) (*appsv1.DeploymentConfig, error) {
	if err != nil {
		return nil, err
	}
	found := &appsv1.DeploymentConfig{}
	if err := json.Unmarshal(raw, found); err != nil {
		return nil, err
	}
	return found, nil
}
