//! A small writer of ONNX models through the same prost messages the
//! reader uses: the tests' hand-made models and the bundled example are
//! built with it.
//!
//! ```
//! use lipcert::onnx::builder::{GraphBuilder, attr_float};
//! let mut g = GraphBuilder::new("x", &[1, 3]);
//! g.node("LeakyRelu", &["x"], &["y"], vec![attr_float("alpha", 0.5)]);
//! let bytes = g.finish(&["y"], 13);
//! let net = lipcert::onnx::import_bytes(&bytes, std::path::Path::new("."), &Default::default()).unwrap();
//! assert_eq!(net.network.nodes.len(), 1);
//! ```

use super::proto::{
    encode_model, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    TensorProto, TensorShapeProto, TypeProto, TypeProtoTensor, ValueInfoProto,
};
use super::tensor::{encode_f32, encode_i64};

/// An INT attribute.
pub fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(v),
        r#type: Some(2),
        ..Default::default()
    }
}

/// A FLOAT attribute.
pub fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        f: Some(v),
        r#type: Some(1),
        ..Default::default()
    }
}

/// An INTS attribute.
pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: v.to_vec(),
        r#type: Some(7),
        ..Default::default()
    }
}

/// A FLOATS attribute.
pub fn attr_floats(name: &str, v: &[f32]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        floats: v.to_vec(),
        r#type: Some(6),
        ..Default::default()
    }
}

/// A STRING attribute.
pub fn attr_string(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        s: Some(v.as_bytes().to_vec()),
        r#type: Some(3),
        ..Default::default()
    }
}

/// A TENSOR attribute.
pub fn attr_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        t: Some(t),
        r#type: Some(4),
        ..Default::default()
    }
}

/// A float tensor value-info with a fixed shape.
pub fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto {
                    dim: shape
                        .iter()
                        .map(|&d| Dimension {
                            dim_value: Some(d as i64),
                            dim_param: None,
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

/// Builds one graph: an input, nodes, initializers, outputs.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    /// The graph so far.
    pub graph: GraphProto,
    /// Model-local functions.
    pub functions: Vec<super::proto::FunctionProto>,
}

impl GraphBuilder {
    /// A graph with one float input of the given full shape.
    pub fn new(input: &str, shape: &[usize]) -> Self {
        Self {
            graph: GraphProto {
                name: Some("lipcert".into()),
                input: vec![value_info(input, shape)],
                ..Default::default()
            },
            functions: Vec::new(),
        }
    }

    /// Adds a node (named after its first output).
    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> &mut Self {
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: Some(format!("{op}_{}", outputs.first().copied().unwrap_or(""))),
            op_type: Some(op.into()),
            attribute: attrs,
            domain: None,
        });
        self
    }

    /// Adds an f32 initializer.
    pub fn init_f32(&mut self, name: &str, shape: &[usize], data: &[f32]) -> &mut Self {
        self.graph.initializer.push(encode_f32(name, shape, data));
        self
    }

    /// Adds an i64 initializer.
    pub fn init_i64(&mut self, name: &str, shape: &[usize], data: &[i64]) -> &mut Self {
        self.graph.initializer.push(encode_i64(name, shape, data));
        self
    }

    /// The model with these outputs (shapes left undeclared) and opset.
    pub fn model(&self, outputs: &[&str], opset: i64) -> ModelProto {
        let mut graph = self.graph.clone();
        graph.output = outputs
            .iter()
            .map(|o| ValueInfoProto {
                name: Some(o.to_string()),
                r#type: None,
            })
            .collect();
        ModelProto {
            ir_version: Some(8),
            producer_name: Some("lipcert".into()),
            producer_version: None,
            graph: Some(graph),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(opset),
            }],
            functions: self.functions.clone(),
        }
    }

    /// The encoded model.
    pub fn finish(&self, outputs: &[&str], opset: i64) -> Vec<u8> {
        encode_model(&self.model(outputs, opset))
    }
}
