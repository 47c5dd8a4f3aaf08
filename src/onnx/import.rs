//! ONNX graph → lipcert's network IR ([`crate::network::Network`]).
//!
//! 1. Decode the model, inline model-local functions, sort the nodes
//!    topologically (a cycle or an undefined tensor is an error).
//! 2. Walk the nodes with static shapes: constants are folded
//!    ([`super::constants`]); every other node becomes one IR layer applied
//!    to one input-dependent tensor, a sum of two, or a concatenation.
//! 3. Turn the resulting DAG into the IR's series-parallel form: the input
//!    of an Add/Concat is traced back to the nearest tensor that dominates
//!    all its operands (every path from the network input passes through
//!    it); the block from there is a `Residual` (sum) or `Concat` whose
//!    branches are built recursively. A subgraph shared by two branches is
//!    evaluated in both (the function is unchanged, so bounds stay sound);
//!    a node budget refuses graphs where this would blow up.
//!
//! What cannot be bounded globally is refused with the node's name, its
//! operator and the reason; so is every operator not implemented yet.

use super::constants::{
    self, axes_arg, flatten_shape, reshape_target, slice_args, squeeze_shape, unsqueeze_shape,
    Attrs,
};
use super::error::{invalid, unsupported, OnnxError, OnnxResult};
use super::proto::{self, AttributeProto, GraphProto, ModelProto, NodeProto};
use super::shapes::{self, PadMode};
use super::tensor::{decode, element_count, ConstTensor};
use crate::matrix::DenseMatrix;
use crate::network::conv_layer::ConvLayer;
use crate::network::conv_transpose_layer::{ConvTransposeLayer, TransposeAxis};
use crate::network::elementwise::Elementwise;
use crate::network::layer::{Layer, Network, Node};
use crate::network::pool::{Pool2d, Windows1d};
use crate::network::select::Select;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Largest number of IR nodes one import may create (shared subgraphs are
/// duplicated into each branch that uses them).
pub const MAX_IR_NODES: usize = 100_000;

/// Largest explicit matrix built for a MatMul applied to several rows.
const MAX_KRON_ENTRIES: usize = 4_000_000;

/// Options of the import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOptions {
    /// The input's shape without the batch dimension (overrides symbolic or
    /// declared dimensions).
    pub input_shape: Option<Vec<usize>>,
}

/// A network imported from ONNX.
#[derive(Debug, Clone)]
pub struct OnnxNetwork {
    /// The network.
    pub network: Network,
    /// For each top-level IR node, the ONNX node(s) it covers.
    pub origins: Vec<String>,
    /// Name of the graph input.
    pub input_name: String,
    /// Full input shape (batch dimension 1 first).
    pub input_shape: Vec<usize>,
    /// Graph outputs with their full shapes (the network output is their
    /// flattened concatenation).
    pub outputs: Vec<(String, Vec<usize>)>,
    /// Every Conv node with its layer (graph geometry), and every
    /// ConvTranspose node with the convolution C whose adjoint it applies
    /// (`WeightInfo::transposed`).
    pub convs: Vec<(WeightInfo, ConvLayer)>,
    /// Every Gemm/MatMul weight as the matrix W of y = Wx (+ b).
    pub matrices: Vec<(WeightInfo, DenseMatrix)>,
    /// Default-domain opset version.
    pub opset: i64,
    /// The batch size the model declares (1 when symbolic). lipcert
    /// certifies one sample: the declared batch is replaced by 1, and
    /// [`forward_outputs`] evaluates a batch sample by sample.
    pub declared_batch: usize,
}

/// Where a weight listed by `lipcert conv|sigma model.onnx` comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightInfo {
    /// The node's name (as in the graph, or `#k→output` when unnamed).
    pub node: String,
    /// The node, as error messages name it: `node 'name' (Op)`.
    pub context: String,
    /// The ONNX name of the weight tensor (an initializer, a `Constant`
    /// node's output or a constant folded from a subgraph).
    pub tensor: String,
    /// The weight's shape as stored in the graph.
    pub shape: Vec<usize>,
    /// The stored element type (`f32`, `f16`, `bf16`, `f64`) of an
    /// initializer or `Constant` node; `f64` for a constant lipcert folded
    /// from a subgraph (its values are what lipcert computed in f64).
    pub dtype: String,
    /// Whether the node is a `ConvTranspose` (its listed layer is then the
    /// convolution C whose adjoint the node applies; σ(Cᵀ) = σ(C)).
    pub transposed: bool,
}

/// lipcert's short name of an ONNX floating-point data type code (`f64`
/// for any other code: folded values).
fn dtype_name(data_type: Option<i32>) -> String {
    match data_type {
        Some(1) => "f32",
        Some(10) => "f16",
        Some(16) => "bf16",
        _ => "f64",
    }
    .to_owned()
}

/// Largest ONNX file read (protobuf messages are limited to 2 GiB; larger
/// weights live in external data files).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;

/// Reads and imports `path` (a regular file of at most [`MAX_MODEL_BYTES`]).
pub fn import_file(path: &Path, options: &ImportOptions) -> OnnxResult<OnnxNetwork> {
    let bytes = crate::io::regular_file::read_regular(path, MAX_MODEL_BYTES, "an ONNX model")
        .map_err(|e| invalid(e.to_string()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    import_bytes(&bytes, &dir, options)
}

/// Decodes a model, mapping protobuf errors to one line.
pub fn decode_model(bytes: &[u8]) -> OnnxResult<ModelProto> {
    proto::decode_model(bytes).map_err(|e| {
        invalid(format!(
            "not a valid ONNX model (protobuf decoding failed: {e})"
        ))
    })
}

/// Imports a model from its bytes; `dir` resolves external data.
pub fn import_bytes(bytes: &[u8], dir: &Path, options: &ImportOptions) -> OnnxResult<OnnxNetwork> {
    let model = decode_model(bytes)?;
    import_model(&model, dir, options)
}

/// The default-domain opset version of a model.
pub fn default_opset(model: &ModelProto) -> OnnxResult<i64> {
    model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
        .and_then(|o| o.version)
        .ok_or_else(|| invalid("the model imports no default-domain (ai.onnx) opset"))
}

/// Imports a decoded model.
pub fn import_model(
    model: &ModelProto,
    dir: &Path,
    options: &ImportOptions,
) -> OnnxResult<OnnxNetwork> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| invalid("the model has no graph"))?;
    let opset = default_opset(model)?;
    if !(1..=23).contains(&opset) {
        return Err(unsupported(format!(
            "opset {opset} (lipcert reads opsets 1 to 23)"
        )));
    }
    let nodes = inline_functions(&graph.node, model, 0)?;
    let nodes = topological_order(nodes, graph)?;
    let mut b = Builder::new(opset, dir);
    let (input_name, input_shape, declared_batch) = b.graph_inputs(graph, options)?;
    for (k, node) in nodes.iter().enumerate() {
        b.node(node, k)?;
    }
    let mut outputs = Vec::new();
    let mut out_ids = Vec::new();
    for o in &graph.output {
        let name = o.name.clone().unwrap_or_default();
        match b.values.get(&name) {
            Some(Value::Dyn(id)) => {
                outputs.push((name, b.dyns[*id].shape.clone()));
                out_ids.push(*id);
            }
            Some(Value::Const(_)) => {
                return Err(unsupported(format!(
                    "graph output '{name}' does not depend on the input"
                )))
            }
            None => {
                return Err(invalid(format!(
                    "graph output '{name}' is not produced by any node"
                )))
            }
        }
    }
    if out_ids.is_empty() {
        return Err(invalid("the graph has no output"));
    }
    let target = if out_ids.len() == 1 {
        out_ids[0]
    } else {
        let lens = out_ids
            .iter()
            .map(|&i| shapes::prod(&b.dyns[i].shape))
            .collect::<Vec<_>>();
        let total = lens.iter().sum();
        b.push(
            vec![total],
            Producer::Concat {
                parts: out_ids.clone(),
                outer: 1,
                inner: 1,
                lens,
                origin: "graph outputs (flattened, concatenated)".into(),
            },
        )
    };
    let idom = b.dominators();
    let mut budget = MAX_IR_NODES;
    let items = b.chain(0, target, &idom, &mut budget)?;
    let (nodes, origins): (Vec<Node>, Vec<String>) = items.into_iter().unzip();
    let network = Network {
        input_shape: strip(&input_shape),
        nodes,
    };
    Ok(OnnxNetwork {
        network,
        origins,
        input_name,
        input_shape,
        outputs,
        convs: b.convs,
        matrices: b.matrices,
        opset,
        declared_batch,
    })
}

/// The IR shape of a full ONNX shape: the batch dimension (a leading 1 of a
/// tensor of rank ≥ 2) dropped.
pub fn strip(shape: &[usize]) -> Vec<usize> {
    if shape.len() >= 2 && shape[0] == 1 {
        shape[1..].to_vec()
    } else {
        shape.to_vec()
    }
}

fn node_name(n: &NodeProto, k: usize) -> String {
    match n.name.as_deref() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => format!(
            "#{k}→{}",
            n.output.first().map(String::as_str).unwrap_or("")
        ),
    }
}

// ---------------------------------------------------------------------------
// functions and ordering

fn is_default_domain(d: Option<&str>) -> bool {
    matches!(d, None | Some("") | Some("ai.onnx"))
}

fn inline_functions(
    nodes: &[NodeProto],
    model: &ModelProto,
    depth: usize,
) -> OnnxResult<Vec<NodeProto>> {
    if model.functions.is_empty() {
        return Ok(nodes.to_vec());
    }
    if depth > 16 {
        return Err(invalid(
            "model-local functions nest more than 16 deep (recursive?)",
        ));
    }
    let mut out = Vec::new();
    for (k, n) in nodes.iter().enumerate() {
        let f = model.functions.iter().find(|f| {
            f.name.as_deref() == n.op_type.as_deref()
                && (f.domain.as_deref().unwrap_or("") == n.domain.as_deref().unwrap_or(""))
        });
        let Some(f) = f else {
            out.push(n.clone());
            continue;
        };
        let prefix = format!("{}::{}", node_name(n, k), f.name.as_deref().unwrap_or(""));
        let mut rename: HashMap<String, String> = HashMap::new();
        for (i, formal) in f.input.iter().enumerate() {
            rename.insert(formal.clone(), n.input.get(i).cloned().unwrap_or_default());
        }
        for (i, formal) in f.output.iter().enumerate() {
            rename.insert(formal.clone(), n.output.get(i).cloned().unwrap_or_default());
        }
        let caller: HashMap<&str, &AttributeProto> = n
            .attribute
            .iter()
            .map(|a| (a.name.as_deref().unwrap_or(""), a))
            .collect();
        let defaults: HashMap<&str, &AttributeProto> = f
            .attribute_proto
            .iter()
            .map(|a| (a.name.as_deref().unwrap_or(""), a))
            .collect();
        let mut body = Vec::new();
        for inner in &f.node {
            let mut m = inner.clone();
            let map = |s: &String, rename: &mut HashMap<String, String>| -> String {
                if s.is_empty() {
                    return String::new();
                }
                rename
                    .entry(s.clone())
                    .or_insert_with(|| format!("{prefix}/{s}"))
                    .clone()
            };
            m.input = inner.input.iter().map(|s| map(s, &mut rename)).collect();
            m.output = inner.output.iter().map(|s| map(s, &mut rename)).collect();
            m.name = Some(format!("{prefix}/{}", inner.name.as_deref().unwrap_or("")));
            let mut attrs = Vec::new();
            for a in &inner.attribute {
                match a.ref_attr_name.as_deref() {
                    Some(r) if !r.is_empty() => {
                        if let Some(src) = caller.get(r).or_else(|| defaults.get(r)) {
                            let mut c = (*src).clone();
                            c.name = a.name.clone();
                            attrs.push(c);
                        }
                    }
                    _ => attrs.push(a.clone()),
                }
            }
            m.attribute = attrs;
            body.push(m);
        }
        out.extend(inline_functions(&body, model, depth + 1)?);
    }
    Ok(out)
}

fn topological_order(nodes: Vec<NodeProto>, graph: &GraphProto) -> OnnxResult<Vec<NodeProto>> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (k, n) in nodes.iter().enumerate() {
        for o in &n.output {
            if o.is_empty() {
                continue;
            }
            if producer.insert(o.as_str(), k).is_some() {
                return Err(invalid(format!("tensor '{o}' is produced by two nodes")));
            }
        }
    }
    let mut indegree = vec![0usize; nodes.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (k, n) in nodes.iter().enumerate() {
        let deps: HashSet<usize> = n
            .input
            .iter()
            .filter_map(|i| producer.get(i.as_str()).copied())
            .collect();
        indegree[k] = deps.len();
        for d in deps {
            users[d].push(k);
        }
    }
    let mut queue: VecDeque<usize> = (0..nodes.len()).filter(|&k| indegree[k] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(k) = queue.pop_front() {
        order.push(k);
        for &u in &users[k] {
            indegree[u] -= 1;
            if indegree[u] == 0 {
                queue.push_back(u);
            }
        }
    }
    if order.len() != nodes.len() {
        let stuck = (0..nodes.len())
            .find(|&k| indegree[k] > 0)
            .expect("some node is left");
        return Err(invalid(format!(
            "the graph has a cycle through node '{}' ({})",
            node_name(&nodes[stuck], stuck),
            nodes[stuck].op_type.as_deref().unwrap_or("")
        )));
    }
    let _ = graph;
    let mut slots: Vec<Option<NodeProto>> = nodes.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .map(|k| slots[k].take().expect("each once"))
        .collect())
}

// ---------------------------------------------------------------------------
// the walk

#[derive(Clone)]
enum Value {
    Const(Rc<ConstTensor>),
    Dyn(usize),
}

enum Producer {
    Input,
    Unary {
        input: usize,
        node: Box<Node>,
        origin: String,
    },
    Sum {
        a: usize,
        b: usize,
        origin: String,
    },
    Concat {
        parts: Vec<usize>,
        outer: usize,
        inner: usize,
        lens: Vec<usize>,
        origin: String,
    },
    /// erf of a tensor: no IR layer of its own; only a recognised GELU
    /// pattern x·½(1 + erf(x/√2)) consumes it.
    Erf {
        input: usize,
        origin: String,
    },
}

struct DynTensor {
    shape: Vec<usize>,
    producer: Producer,
}

struct Builder {
    opset: i64,
    dir: PathBuf,
    values: HashMap<String, Value>,
    poisoned: HashMap<String, String>,
    dyns: Vec<DynTensor>,
    convs: Vec<(WeightInfo, ConvLayer)>,
    matrices: Vec<(WeightInfo, DenseMatrix)>,
    /// Stored data types of initializers and `Constant` outputs, by name.
    dtypes: HashMap<String, i32>,
    /// The name of the node being walked.
    current: String,
    /// Tensors that are an exact multiple k·t of another tensor t, made by a
    /// recognised activation pattern written without its final scaling
    /// (x·(1 + erf(x/√2)) = 2·GELU, x·relu6(x + 3) = 6·hard-swish): id →
    /// (t, k). A following exact division by k (or ×½ for k = 2) is t.
    scaled: HashMap<usize, (usize, f64)>,
}

fn lib(ctx: &str) -> impl Fn(crate::Error) -> OnnxError + '_ {
    move |e| invalid(format!("{ctx}: {e}"))
}

fn not_lipschitz(ctx: &str, why: &str) -> OnnxError {
    unsupported(format!(
        "{ctx}: {why}; it is not globally Lipschitz, so no certified bound exists"
    ))
}

impl Builder {
    fn new(opset: i64, dir: &Path) -> Self {
        Self {
            opset,
            dir: dir.to_path_buf(),
            values: HashMap::new(),
            poisoned: HashMap::new(),
            dyns: Vec::new(),
            convs: Vec::new(),
            matrices: Vec::new(),
            dtypes: HashMap::new(),
            current: String::new(),
            scaled: HashMap::new(),
        }
    }

    /// The [`WeightInfo`] of constant `tensor` (input `name`) of the node
    /// being walked.
    fn weight_info(&self, ctx: &str, name: &str, tensor: &ConstTensor) -> WeightInfo {
        WeightInfo {
            node: self.current.clone(),
            context: ctx.to_owned(),
            tensor: name.to_owned(),
            shape: tensor.shape.clone(),
            dtype: dtype_name(self.dtypes.get(name).copied()),
            transposed: false,
        }
    }

    fn push(&mut self, shape: Vec<usize>, producer: Producer) -> usize {
        self.dyns.push(DynTensor { shape, producer });
        self.dyns.len() - 1
    }

    fn graph_inputs(
        &mut self,
        graph: &GraphProto,
        options: &ImportOptions,
    ) -> OnnxResult<(String, Vec<usize>, usize)> {
        for t in &graph.initializer {
            let name = t.name.clone().unwrap_or_default();
            let c = decode(t, &self.dir)?;
            if let Some(dt) = t.data_type {
                self.dtypes.insert(name.clone(), dt);
            }
            self.values.insert(name, Value::Const(Rc::new(c)));
        }
        let dynamic: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !self.values.contains_key(i.name.as_deref().unwrap_or("")))
            .collect();
        if dynamic.len() != 1 {
            return Err(unsupported(format!(
                "the graph has {} inputs that are not initializers ({}); lipcert certifies networks of one input",
                dynamic.len(),
                dynamic.iter().map(|i| i.name.clone().unwrap_or_default()).collect::<Vec<_>>().join(", ")
            )));
        }
        let input = dynamic[0];
        let name = input.name.clone().unwrap_or_default();
        let tt = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
        if let Some(et) = tt.and_then(|t| t.elem_type) {
            if !matches!(et, 1 | 10 | 11 | 16) {
                return Err(unsupported(format!(
                    "graph input '{name}' has element type {}; lipcert needs a float input",
                    super::tensor::type_name(et)
                )));
            }
        }
        let declared: Option<Vec<Option<usize>>> = tt.and_then(|t| t.shape.as_ref()).map(|s| {
            s.dim
                .iter()
                .map(|d| d.dim_value.filter(|&v| v > 0).map(|v| v as usize))
                .collect()
        });
        let declared_batch = match &declared {
            Some(d) if d.len() >= 2 => d[0].unwrap_or(1),
            _ => 1,
        };
        let mut shape = match (&options.input_shape, declared) {
            (Some(s), Some(d)) if d.len() == s.len() + 1 => {
                let mut full = vec![1];
                full.extend_from_slice(s);
                let _ = d;
                full
            }
            (Some(s), Some(d)) if d.len() == s.len() => s.clone(),
            (Some(s), Some(d)) => {
                return Err(invalid(format!(
                    "--input-shape {s:?} does not match the rank {} of graph input '{name}' (give the shape without the batch dimension)",
                    d.len()
                )))
            }
            (Some(s), None) => {
                let mut full = vec![1];
                full.extend_from_slice(s);
                full
            }
            (None, Some(d)) => {
                let mut full = Vec::with_capacity(d.len());
                for (i, v) in d.iter().enumerate() {
                    match v {
                        Some(v) => full.push(*v),
                        None if i == 0 => full.push(1),
                        None => {
                            return Err(invalid(format!(
                                "graph input '{name}' has a symbolic dimension {i}: give --input-shape"
                            )))
                        }
                    }
                }
                full
            }
            (None, None) => {
                return Err(invalid(format!("graph input '{name}' has no shape: give --input-shape")))
            }
        };
        if shape.len() >= 2 {
            // One sample: the constant of a batch of independent samples is
            // the per-sample constant (the batched map is block diagonal).
            shape[0] = 1;
        }
        if shape.contains(&0) || shape.is_empty() {
            return Err(invalid(format!("graph input '{name}' has shape {shape:?}")));
        }
        element_count(&shape, &format!("graph input '{name}'"))?;
        let id = self.push(shape.clone(), Producer::Input);
        self.values.insert(name.clone(), Value::Dyn(id));
        Ok((name, shape, declared_batch))
    }

    fn get(&self, name: &str, ctx: &str) -> OnnxResult<Option<Value>> {
        if name.is_empty() {
            return Ok(None);
        }
        if let Some(why) = self.poisoned.get(name) {
            return Err(unsupported(format!("{ctx}: uses '{name}', {why}")));
        }
        self.values.get(name).cloned().map(Some).ok_or_else(|| {
            invalid(format!(
                "{ctx}: input '{name}' is not an initializer, a graph input or the output of an earlier node (missing initializer?)"
            ))
        })
    }

    fn unary(
        &mut self,
        input: usize,
        layer: Layer,
        kind: &'static str,
        shape: Vec<usize>,
        origin: &str,
    ) -> usize {
        let node = Node {
            kind,
            layer,
            shape_in: strip(&self.dyns[input].shape),
            shape_out: strip(&shape),
            bound: None,
        };
        self.push(
            shape,
            Producer::Unary {
                input,
                node: Box::new(node),
                origin: origin.to_string(),
            },
        )
    }

    fn select(
        &mut self,
        input: usize,
        map: Vec<usize>,
        fill: f64,
        shape: Vec<usize>,
        kind: &'static str,
        ctx: &str,
    ) -> OnnxResult<usize> {
        let n = shapes::prod(&self.dyns[input].shape);
        if map.len() == n && fill == 0.0 && map.iter().enumerate().all(|(i, &j)| i == j) {
            return Ok(self.unary(input, Layer::Flatten, "reshape", shape, ctx));
        }
        let s = Select::new(map, fill, n).map_err(lib(ctx))?;
        Ok(self.unary(input, Layer::Select(Box::new(s)), kind, shape, ctx))
    }

    fn elementwise(&mut self, input: usize, e: Elementwise, ctx: &str) -> OnnxResult<usize> {
        let shape = self.dyns[input].shape.clone();
        e.validate(shapes::prod(&shape)).map_err(lib(ctx))?;
        let kind = e.name();
        Ok(self.unary(input, Layer::Elementwise(Box::new(e)), kind, shape, ctx))
    }

    /// A constant broadcast (unidirectionally) to `shape` as a flat vector.
    fn expand(&self, c: &ConstTensor, shape: &[usize], ctx: &str) -> OnnxResult<Vec<f64>> {
        let out = shapes::broadcast_shape(shape, &c.shape, ctx)?;
        if out != shape {
            return Err(unsupported(format!(
                "{ctx}: the constant of shape {:?} broadcasts the input of shape {shape:?} up to {out:?}",
                c.shape
            )));
        }
        let map = shapes::broadcast_map(&c.shape, shape, ctx)?;
        let v = c.as_f64();
        Ok(map.iter().map(|&i| v[i]).collect())
    }

    fn node(&mut self, node: &NodeProto, k: usize) -> OnnxResult<()> {
        let op = node.op_type.as_deref().unwrap_or("");
        let name = node_name(node, k);
        let ctx = format!("node '{name}' ({op})");
        if !is_default_domain(node.domain.as_deref()) {
            return Err(unsupported(format!(
                "{ctx}: operator of domain '{}' (not a model-local function)",
                node.domain.as_deref().unwrap_or("")
            )));
        }
        self.current = name.clone();
        if op == "Constant" {
            let stored = node
                .attribute
                .iter()
                .find_map(|a| a.t.as_ref().and_then(|t| t.data_type));
            if let (Some(dt), Some(out)) = (stored, node.output.first()) {
                self.dtypes.insert(out.clone(), dt);
            }
        }
        let inputs: Vec<Option<Value>> = node
            .input
            .iter()
            .map(|i| self.get(i, &ctx))
            .collect::<OnnxResult<_>>()?;
        let all_const = inputs.iter().all(|v| !matches!(v, Some(Value::Dyn(_))));
        if op == "Shape" || op == "Size" {
            let shape = match inputs.first().cloned().flatten() {
                Some(Value::Dyn(id)) => self.dyns[id].shape.clone(),
                Some(Value::Const(c)) => c.shape.clone(),
                None => return Err(invalid(format!("{ctx}: missing input"))),
            };
            let attrs = Attrs::new(node, &ctx);
            let t = if op == "Shape" {
                constants::shape_tensor(&shape, &attrs, &ctx)?
            } else {
                ConstTensor::int(vec![], vec![shapes::prod(&shape) as i64])?
            };
            return self.set_outputs(node, vec![Value::Const(Rc::new(t))]);
        }
        if all_const {
            let consts: Vec<Option<&ConstTensor>> = inputs
                .iter()
                .map(|v| match v {
                    Some(Value::Const(c)) => Some(c.as_ref()),
                    _ => None,
                })
                .collect();
            let outs = constants::fold(node, &consts, self.opset, &self.dir, &ctx)?;
            return self.set_outputs(
                node,
                outs.into_iter().map(|t| Value::Const(Rc::new(t))).collect(),
            );
        }
        let outs = self.dynamic(node, op, &ctx, &inputs)?;
        self.set_outputs(node, outs)
    }

    fn set_outputs(&mut self, node: &NodeProto, outs: Vec<Value>) -> OnnxResult<()> {
        for (i, name) in node.output.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            match outs.get(i) {
                Some(v) => {
                    self.values.insert(name.clone(), v.clone());
                }
                None => {
                    self.poisoned.insert(
                        name.clone(),
                        format!(
                            "output {i} of a {} node, which lipcert does not compute",
                            node.op_type.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    fn dynamic(
        &mut self,
        node: &NodeProto,
        op: &str,
        ctx: &str,
        inputs: &[Option<Value>],
    ) -> OnnxResult<Vec<Value>> {
        let attrs = Attrs::new(node, ctx);
        let opset = self.opset;
        let konst = |i: usize| -> Option<Rc<ConstTensor>> {
            match inputs.get(i) {
                Some(Some(Value::Const(c))) => Some(c.clone()),
                _ => None,
            }
        };
        let dyn_at = |i: usize| -> Option<usize> {
            match inputs.get(i) {
                Some(Some(Value::Dyn(d))) => Some(*d),
                _ => None,
            }
        };
        // The data input of unary operators must be the input-dependent one.
        let x = match dyn_at(0) {
            Some(x) => x,
            None => {
                return match op {
                    "Add" | "Mul" | "Sub" | "Div" | "Sum" | "Concat" | "PRelu" | "Gemm" | "MatMul" | "Max" | "Min" => {
                        self.binary_first_const(node, op, ctx, inputs)
                    }
                    _ => Err(not_lipschitz(
                        ctx,
                        "a parameter of this operator (weight, shape, slope, bound) depends on the network input",
                    )),
                };
            }
        };
        // Weights, shapes and bounds must be constants.
        let non_data_dynamic = inputs
            .iter()
            .skip(1)
            .any(|v| matches!(v, Some(Value::Dyn(_))));
        if non_data_dynamic
            && !matches!(
                op,
                "Add"
                    | "Sub"
                    | "Mul"
                    | "Div"
                    | "Sum"
                    | "Concat"
                    | "MatMul"
                    | "Gemm"
                    | "Max"
                    | "Min"
                    | "Pow"
            )
        {
            return Err(not_lipschitz(
                ctx,
                "a parameter of this operator (weight, shape, slope, bound) depends on the network input",
            ));
        }
        let s = self.dyns[x].shape.clone();
        let r = s.len();
        let one = |id: usize| Ok(vec![Value::Dyn(id)]);
        let input_name = |i: usize| node.input.get(i).map_or("", String::as_str);
        match op {
            "Identity" => Ok(vec![Value::Dyn(x)]),
            "Dropout" => {
                if opset >= 12 {
                    if let Some(t) = konst(2) {
                        if t.as_f64().first().copied().unwrap_or(0.0) != 0.0 {
                            return Err(unsupported(format!("{ctx}: training_mode = true")));
                        }
                    }
                }
                Ok(vec![Value::Dyn(x)])
            }
            "Cast" => {
                let to = attrs.int("to", 1)?;
                if matches!(to, 1 | 10 | 11 | 16) {
                    Ok(vec![Value::Dyn(x)])
                } else {
                    Err(unsupported(format!(
                        "{ctx}: cast of the input-dependent tensor to data type {to}"
                    )))
                }
            }
            "Flatten" => {
                let out = flatten_shape(&s, attrs.int("axis", 1)?, ctx)?;
                one(self.unary(x, Layer::Flatten, "flatten", out, ctx))
            }
            "Reshape" => {
                let target = reshape_target(&attrs, konst(1).as_deref(), opset, ctx)?;
                let out = shapes::reshape(&s, &target, attrs.int("allowzero", 0)? != 0, ctx)?;
                one(self.unary(x, Layer::Flatten, "reshape", out, ctx))
            }
            "Squeeze" => {
                let axes = axes_arg(&attrs, konst(1).as_deref(), opset, ctx)?;
                let out = squeeze_shape(&s, axes.as_deref(), ctx)?;
                one(self.unary(x, Layer::Flatten, "reshape", out, ctx))
            }
            "Unsqueeze" => {
                let axes = axes_arg(&attrs, konst(1).as_deref(), opset, ctx)?
                    .ok_or_else(|| invalid(format!("{ctx}: missing axes")))?;
                let out = unsqueeze_shape(&s, &axes, ctx)?;
                one(self.unary(x, Layer::Flatten, "reshape", out, ctx))
            }
            "Transpose" => {
                let perm = attrs
                    .ints("perm")?
                    .unwrap_or_else(|| (0..r as i64).rev().collect());
                let (out, map) = shapes::transpose(&s, &perm, ctx)?;
                one(self.select(x, map, 0.0, out, "transpose", ctx)?)
            }
            "Slice" => {
                let consts: Vec<Option<Rc<ConstTensor>>> = (0..5).map(konst).collect();
                let refs: Vec<Option<&ConstTensor>> = consts.iter().map(|c| c.as_deref()).collect();
                let (st, en, ax, sp) = slice_args(&attrs, &refs, opset, ctx)?;
                let (out, map) = shapes::slice(&s, &st, &en, ax.as_deref(), sp.as_deref(), ctx)?;
                one(self.select(x, map, 0.0, out, "slice", ctx)?)
            }
            "Gather" => {
                let idx = konst(1).ok_or_else(|| invalid(format!("{ctx}: missing indices")))?;
                let (out, map) = shapes::gather(
                    &s,
                    attrs.int("axis", 0)?,
                    &idx.as_i64(ctx)?,
                    &idx.shape,
                    ctx,
                )?;
                one(self.select(x, map, 0.0, out, "gather", ctx)?)
            }
            "Split" => {
                let a = shapes::axis(attrs.int("axis", 0)?, r, ctx)?;
                let n_out = node.output.len();
                let sizes: Vec<i64> = match if opset >= 13 {
                    konst(1).map(|t| t.as_i64(ctx)).transpose()?
                } else {
                    attrs.ints("split")?
                } {
                    Some(v) => v,
                    None => {
                        let parts = if opset >= 18 {
                            attrs.int("num_outputs", n_out as i64)? as usize
                        } else {
                            n_out
                        };
                        if parts == 0 {
                            return Err(invalid(format!("{ctx}: no outputs")));
                        }
                        let chunk = s[a].div_ceil(parts);
                        (0..parts)
                            .map(|i| (chunk.min(s[a].saturating_sub(i * chunk))) as i64)
                            .collect()
                    }
                };
                if sizes.iter().any(|&v| v < 0) || sizes.iter().sum::<i64>() != s[a] as i64 {
                    return Err(invalid(format!(
                        "{ctx}: split sizes {sizes:?} do not add up to {}",
                        s[a]
                    )));
                }
                let mut outs = Vec::new();
                let mut start = 0i64;
                for sz in sizes {
                    let (out, map) =
                        shapes::slice(&s, &[start], &[start + sz], Some(&[a as i64]), None, ctx)?;
                    outs.push(Value::Dyn(self.select(x, map, 0.0, out, "split", ctx)?));
                    start += sz;
                }
                Ok(outs)
            }
            "Pad" => {
                let mode = match attrs.string("mode", "constant")?.as_str() {
                    "constant" => PadMode::Constant,
                    "reflect" => PadMode::Reflect,
                    "edge" => PadMode::Edge,
                    "wrap" => PadMode::Wrap,
                    m => return Err(unsupported(format!("{ctx}: pad mode '{m}'"))),
                };
                let (pads, value) = if opset < 11 {
                    let pads = attrs
                        .ints("pads")?
                        .or(attrs.ints("paddings")?)
                        .ok_or_else(|| invalid(format!("{ctx}: missing pads")))?;
                    (pads, attrs.float("value", 0.0)?)
                } else {
                    let pads = konst(1)
                        .ok_or_else(|| invalid(format!("{ctx}: pads must be a constant")))?
                        .as_i64(ctx)?;
                    let value = konst(2)
                        .and_then(|t| t.as_f64().first().copied())
                        .unwrap_or(0.0);
                    (pads, value)
                };
                let axes: Vec<usize> = match konst(3) {
                    Some(t) if opset >= 18 => t
                        .as_i64(ctx)?
                        .iter()
                        .map(|&a| shapes::axis(a, r, ctx))
                        .collect::<OnnxResult<_>>()?,
                    _ => (0..r).collect(),
                };
                if pads.len() != 2 * axes.len() {
                    return Err(invalid(format!(
                        "{ctx}: {} pads for {} axes",
                        pads.len(),
                        axes.len()
                    )));
                }
                let mut begin = vec![0i64; r];
                let mut end = vec![0i64; r];
                for (i, &a) in axes.iter().enumerate() {
                    begin[a] = pads[i];
                    end[a] = pads[i + axes.len()];
                }
                let (out, map) = shapes::pad(&s, &begin, &end, mode, ctx)?;
                let fill = if mode == PadMode::Constant {
                    value
                } else {
                    0.0
                };
                one(self.select(x, map, fill, out, "pad", ctx)?)
            }
            "Relu" => one(self.unary(x, Layer::Relu, "relu", s, ctx)),
            "Sigmoid" => one(self.unary(x, Layer::Sigmoid, "sigmoid", s, ctx)),
            "Tanh" => one(self.unary(x, Layer::Tanh, "tanh", s, ctx)),
            "LeakyRelu" => {
                let a = attrs.float("alpha", 0.01)?;
                one(self.unary(x, Layer::LeakyRelu(a), "leaky_relu", s, ctx))
            }
            "Gelu" => match attrs.string("approximate", "none")?.as_str() {
                "none" => one(self.unary(x, Layer::Gelu, "gelu", s, ctx)),
                "tanh" => one(self.unary(x, Layer::GeluTanh, "gelu", s, ctx)),
                a => Err(unsupported(format!("{ctx}: approximate = '{a}'"))),
            },
            "Elu" => one(self.elementwise(
                x,
                Elementwise::Elu {
                    alpha: attrs.float("alpha", 1.0)?,
                },
                ctx,
            )?),
            "Selu" => one(self.elementwise(
                x,
                Elementwise::Selu {
                    alpha: attrs.float("alpha", f64::from(1.673_263_2_f32))?,
                    gamma: attrs.float("gamma", f64::from(1.050_701_f32))?,
                },
                ctx,
            )?),
            "Softplus" => one(self.elementwise(x, Elementwise::Softplus, ctx)?),
            "Softsign" => one(self.elementwise(x, Elementwise::Softsign, ctx)?),
            "Abs" => one(self.elementwise(x, Elementwise::Abs, ctx)?),
            "HardSigmoid" => one(self.elementwise(
                x,
                Elementwise::HardSigmoid {
                    alpha: attrs.float("alpha", 0.2)?,
                    beta: attrs.float("beta", 0.5)?,
                },
                ctx,
            )?),
            "HardSwish" => one(self.elementwise(x, Elementwise::HardSwish, ctx)?),
            "Neg" => {
                let n = shapes::prod(&s);
                one(self.elementwise(
                    x,
                    Elementwise::Affine {
                        factor: vec![-1.0; n],
                        divide: false,
                        shift: vec![0.0; n],
                    },
                    ctx,
                )?)
            }
            "Clip" => {
                let (min, max) = if opset < 11 {
                    (
                        attrs.float("min", f64::NEG_INFINITY)?,
                        attrs.float("max", f64::INFINITY)?,
                    )
                } else {
                    let scalar = |t: Option<Rc<ConstTensor>>, d: f64| -> OnnxResult<f64> {
                        match t {
                            None => Ok(d),
                            Some(t) if t.len() == 1 => Ok(t.as_f64()[0]),
                            Some(_) => Err(invalid(format!("{ctx}: clip bounds must be scalars"))),
                        }
                    };
                    (
                        scalar(konst(1), f64::NEG_INFINITY)?,
                        scalar(konst(2), f64::INFINITY)?,
                    )
                };
                if min == 0.0 && max == f64::INFINITY {
                    return one(self.unary(x, Layer::Relu, "relu", s, ctx));
                }
                one(self.elementwise(x, Elementwise::Clip { min, max }, ctx)?)
            }
            "PRelu" => {
                let slope = konst(1).ok_or_else(|| invalid(format!("{ctx}: missing slope")))?;
                // Opsets before 7 and PyTorch's exports use a per-channel slope
                // of shape [C]; align it with the channel axis when it does
                // not broadcast from the right.
                let slopes = match self.expand(&slope, &s, ctx) {
                    Ok(v) => v,
                    Err(e) => {
                        if slope.shape.len() == 1 && r >= 2 && slope.shape[0] == s[1] {
                            let mut shape = vec![slope.shape[0]];
                            shape.extend(std::iter::repeat_n(1, r - 2));
                            let t = ConstTensor {
                                shape,
                                values: slope.values.clone(),
                            };
                            self.expand(&t, &s, ctx)?
                        } else {
                            return Err(e);
                        }
                    }
                };
                one(self.elementwise(x, Elementwise::PRelu { slopes }, ctx)?)
            }
            "Softmax" | "LogSoftmax" => {
                let default_axis = if opset >= 13 { -1 } else { 1 };
                let a = shapes::axis(attrs.int("axis", default_axis)?, r, ctx)?;
                let (outer, len, inner) = if opset >= 13 {
                    (shapes::prod(&s[..a]), s[a], shapes::prod(&s[a + 1..]))
                } else {
                    (shapes::prod(&s[..a]), shapes::prod(&s[a..]), 1)
                };
                if op == "LogSoftmax" {
                    let layer = Layer::LogSoftmax { outer, len, inner };
                    return one(self.unary(x, layer, "log_softmax", s, ctx));
                }
                one(self.unary(x, Layer::Softmax { outer, len, inner }, "softmax", s, ctx))
            }
            "BatchNormalization" => self.batchnorm(x, &s, ctx, &attrs, &konst, node),
            "Conv" => self.conv(x, &s, ctx, &attrs, &konst, input_name(1)),
            "Gemm" | "MatMul" => {
                self.matmul(x, &s, op, ctx, &attrs, &konst, dyn_at(1), input_name(1))
            }
            "MaxPool" | "AveragePool" => self.pool(x, &s, op, ctx, &attrs, node),
            "GlobalAveragePool" | "GlobalMaxPool" => {
                if !(3..=4).contains(&r) {
                    return Err(unsupported(format!("{ctx}: input of rank {r}")));
                }
                let (h, w) = if r == 4 { (s[2], s[3]) } else { (1, s[2]) };
                let pool = Pool2d {
                    rows: Windows1d::adaptive(h, 1).map_err(lib(ctx))?,
                    cols: Windows1d::adaptive(w, 1).map_err(lib(ctx))?,
                };
                let mut out = s[..2].to_vec();
                out.extend(std::iter::repeat_n(1, r - 2));
                let c = s[1];
                if op == "GlobalMaxPool" {
                    one(self.unary(
                        x,
                        Layer::MaxPool2d { channels: c, pool },
                        "maxpool2d",
                        out,
                        ctx,
                    ))
                } else {
                    one(self.unary(
                        x,
                        Layer::AvgPool2d { channels: c, pool },
                        "avgpool2d",
                        out,
                        ctx,
                    ))
                }
            }
            "Add" | "Sub" | "Mul" | "Div" | "Sum" | "Max" | "Min" | "Pow" => {
                self.binary(node, op, ctx, inputs)
            }
            "Resize" | "Upsample" => self.resize(x, &s, op, ctx, &attrs, &konst),
            "ReduceMean" => self.reduce_mean(x, &s, ctx, &attrs, &konst),
            "Erf" => Ok(vec![Value::Dyn(self.push(
                s,
                Producer::Erf {
                    input: x,
                    origin: ctx.to_string(),
                },
            ))]),
            "LRN" => Err(unsupported(format!(
                "{ctx}: LRN (local response normalization) is not supported: with bias k > 0 it is globally Lipschitz (its Jacobian is bounded), but lipcert has no certified bound for it"
            ))),
            "ConvTranspose" => self.conv_transpose(x, &s, ctx, &attrs, &konst, input_name(1)),
            "Concat" => self.concat(node, ctx, inputs, &attrs),
            "LayerNormalization"
            | "InstanceNormalization"
            | "GroupNormalization"
            | "MeanVarianceNormalization"
            | "LpNormalization" => Err(not_lipschitz(
                ctx,
                "normalization by a statistic of the input (x/std(x))",
            )),
            "Exp" | "Log" | "Reciprocal" | "Sqrt" | "ReduceProd" => {
                Err(not_lipschitz(ctx, "its derivative is unbounded"))
            }
            _ => Err(unsupported(format!(
                "{ctx}: operator {op} is not supported yet"
            ))),
        }
    }

    fn binary_first_const(
        &mut self,
        node: &NodeProto,
        op: &str,
        ctx: &str,
        inputs: &[Option<Value>],
    ) -> OnnxResult<Vec<Value>> {
        match op {
            "Add" | "Mul" | "Sub" | "Div" | "Sum" | "Max" | "Min" => self.binary(node, op, ctx, inputs),
            "Concat" => self.concat(node, ctx, inputs, &Attrs::new(node, ctx)),
            _ => Err(unsupported(format!(
                "{ctx}: the input-dependent tensor is not the first operand (constant first operand of {op} is not supported yet)"
            ))),
        }
    }

    fn binary(
        &mut self,
        _node: &NodeProto,
        op: &str,
        ctx: &str,
        inputs: &[Option<Value>],
    ) -> OnnxResult<Vec<Value>> {
        let vals: Vec<Value> = inputs.iter().flatten().cloned().collect();
        if op == "Sum" {
            if vals.iter().any(|v| matches!(v, Value::Const(_))) {
                return Err(unsupported(format!("{ctx}: Sum with constant operands")));
            }
            let mut acc = match vals.first() {
                Some(Value::Dyn(d)) => *d,
                _ => return Err(invalid(format!("{ctx}: no inputs"))),
            };
            for v in &vals[1..] {
                let Value::Dyn(d) = v else { unreachable!() };
                acc = self.sum(acc, *d, ctx)?;
            }
            return Ok(vec![Value::Dyn(acc)]);
        }
        if vals.len() != 2 {
            return Err(invalid(format!(
                "{ctx}: expected two inputs, found {}",
                vals.len()
            )));
        }
        match (&vals[0], &vals[1]) {
            (Value::Dyn(a), Value::Dyn(b)) => match op {
                "Add" => Ok(vec![Value::Dyn(self.sum(*a, *b, ctx)?)]),
                "Sub" => {
                    let n = shapes::prod(&self.dyns[*b].shape);
                    let neg = self.elementwise(
                        *b,
                        Elementwise::Affine {
                            factor: vec![-1.0; n],
                            divide: false,
                            shift: vec![0.0; n],
                        },
                        ctx,
                    )?;
                    Ok(vec![Value::Dyn(self.sum(*a, neg, ctx)?)])
                }
                "Mul" => {
                    if let Some(id) = self.silu_pattern(*a, *b, ctx) {
                        return Ok(vec![Value::Dyn(id)]);
                    }
                    if let Some(id) = self.gelu_pattern(*a, *b, ctx)? {
                        return Ok(vec![Value::Dyn(id)]);
                    }
                    if let Some(id) = self.hard_swish_pattern(*a, *b, ctx)? {
                        return Ok(vec![Value::Dyn(id)]);
                    }
                    Err(not_lipschitz(
                        ctx,
                        "a product of two tensors that both depend on the input",
                    ))
                }
                "Div" => {
                    if let Some(id) = self.softsign_pattern(*a, *b, ctx) {
                        return Ok(vec![Value::Dyn(id)]);
                    }
                    Err(not_lipschitz(
                        ctx,
                        "a quotient of two tensors that both depend on the input",
                    ))
                }
                _ => Err(unsupported(format!(
                    "{ctx}: {op} of two input-dependent tensors is not supported yet"
                ))),
            },
            (Value::Dyn(x), Value::Const(c)) | (Value::Const(c), Value::Dyn(x)) => {
                let x_first = matches!(vals[0], Value::Dyn(_));
                let s = self.dyns[*x].shape.clone();
                let n = shapes::prod(&s);
                let cv = self.expand(c, &s, ctx)?;
                // k·t divided by k exactly (or halved when k = 2): t.
                if let Some(&(t, k)) = self.scaled.get(x) {
                    let undone = match (op, x_first) {
                        ("Div", true) => cv.iter().all(|&v| v == k),
                        ("Mul", _) => k == 2.0 && cv.iter().all(|&v| v == 0.5),
                        _ => false,
                    };
                    if undone {
                        return Ok(vec![Value::Dyn(t)]);
                    }
                }
                let e = match (op, x_first) {
                    ("Add", _) => Elementwise::Affine {
                        factor: vec![1.0; n],
                        divide: false,
                        shift: cv,
                    },
                    ("Sub", true) => Elementwise::Affine {
                        factor: vec![1.0; n],
                        divide: false,
                        shift: cv.iter().map(|v| -v).collect(),
                    },
                    ("Sub", false) => Elementwise::Affine {
                        factor: vec![-1.0; n],
                        divide: false,
                        shift: cv,
                    },
                    ("Mul", _) => Elementwise::Affine {
                        factor: cv,
                        divide: false,
                        shift: vec![0.0; n],
                    },
                    ("Div", true) => {
                        if cv.contains(&0.0) {
                            return Err(invalid(format!(
                                "{ctx}: division by a constant with a zero entry"
                            )));
                        }
                        Elementwise::Affine {
                            factor: cv,
                            divide: true,
                            shift: vec![0.0; n],
                        }
                    }
                    ("Div", false) => {
                        return Err(not_lipschitz(
                            ctx,
                            "a constant divided by an input-dependent tensor",
                        ))
                    }
                    ("Max", _) if cv.iter().all(|&v| v == 0.0) => {
                        return Ok(vec![Value::Dyn(self.unary(
                            *x,
                            Layer::Relu,
                            "relu",
                            s,
                            ctx,
                        ))]);
                    }
                    _ => {
                        return Err(unsupported(format!(
                            "{ctx}: {op} with a constant is not supported yet"
                        )))
                    }
                };
                // Multiplying by ones and adding zeros is the identity.
                if let Elementwise::Affine {
                    factor,
                    divide: false,
                    shift,
                } = &e
                {
                    if factor.iter().all(|&f| f == 1.0) && shift.iter().all(|&v| v == 0.0) {
                        return Ok(vec![Value::Dyn(*x)]);
                    }
                }
                Ok(vec![Value::Dyn(self.elementwise(*x, e, ctx)?)])
            }
            _ => unreachable!("folded before"),
        }
    }

    /// x/(1 + |x|) written as three nodes (PyTorch's Softsign export): one
    /// softsign activation.
    fn softsign_pattern(&mut self, a: usize, b: usize, ctx: &str) -> Option<usize> {
        let Producer::Unary { input: t, node, .. } = &self.dyns[b].producer else {
            return None;
        };
        let one_plus = matches!(&node.layer, Layer::Elementwise(e) if matches!(&**e,
            Elementwise::Affine { factor, divide: false, shift }
                if factor.iter().all(|&f| f == 1.0) && shift.iter().all(|&s| s == 1.0)));
        let Producer::Unary {
            input: u,
            node: abs,
            ..
        } = &self.dyns[*t].producer
        else {
            return None;
        };
        let is_abs = matches!(&abs.layer, Layer::Elementwise(e) if **e == Elementwise::Abs);
        if !(one_plus && is_abs && *u == a) {
            return None;
        }
        let origin = format!("{ctx} (x/(1+|x|) as softsign)");
        self.elementwise(a, Elementwise::Softsign, &origin).ok()
    }

    /// The parameters (input, factor, divide, shift) of tensor `t` when it
    /// is one uniform elementwise affine map of another tensor.
    fn uniform_affine(&self, t: usize) -> Option<(usize, f64, bool, f64)> {
        let Producer::Unary { input, node, .. } = &self.dyns[t].producer else {
            return None;
        };
        let Layer::Elementwise(e) = &node.layer else {
            return None;
        };
        let Elementwise::Affine {
            factor,
            divide,
            shift,
        } = &**e
        else {
            return None;
        };
        let (f, sh) = (*factor.first()?, *shift.first()?);
        (factor.iter().all(|&v| v == f) && shift.iter().all(|&v| v == sh))
            .then_some((*input, f, *divide, sh))
    }

    /// `t = ½·u` (×0.5 or ÷2): u.
    fn half_of(&self, t: usize) -> Option<usize> {
        match self.uniform_affine(t)? {
            (u, f, false, sh) if f == 0.5 && sh == 0.0 => Some(u),
            (u, f, true, sh) if f == 2.0 && sh == 0.0 => Some(u),
            _ => None,
        }
    }

    /// `t = 1 + erf(x/√2)` (÷√2 or ×1/√2, the constant √2 or 1/√2 rounded
    /// to f32 or f64): x.
    fn one_plus_erf_of(&self, t: usize) -> Option<usize> {
        let (e, f, divide, sh) = self.uniform_affine(t)?;
        if !(f == 1.0 && !divide && sh == 1.0) {
            return None;
        }
        let Producer::Erf { input: d, .. } = &self.dyns[e].producer else {
            return None;
        };
        let (x, c, divide, sh) = self.uniform_affine(*d)?;
        let near = |c: f64, v: f64| c == v || c == f64::from(v as f32);
        let ok = sh == 0.0
            && if divide {
                near(c, std::f64::consts::SQRT_2)
            } else {
                near(c, std::f64::consts::FRAC_1_SQRT_2)
            };
        ok.then_some(x)
    }

    /// GELU as PyTorch exports it before opset 20,
    /// x·0.5·(1 + erf(x/√2)), in any association of the products
    /// (`Mul(Mul(x, 1+erf), 0.5)`, `Mul(Mul(x, 0.5), 1+erf)`,
    /// `Mul(x, Mul(1+erf, 0.5))`): one GELU activation (the certified
    /// [`Layer::Gelu`], slope interval [1 − L, L], L = 1.1289…).
    ///
    /// The exported constant c is √2 rounded to f32 or f64, so the file's
    /// function is f_c(x) = x·½(1 + erf(x/c)) rather than x·Φ(x). The bound
    /// holds for both: with g(u) = u·½(1 + erf(u)), f_c(x) = c·g(x/c) and
    /// f_c'(x) = g'(x/c), so every f_c has the same slope range as GELU
    /// (theorem of [`crate::network::constants::slope_interval_gelu`]); the
    /// values differ by |x|·|1/c − 1/√2|·max φ·|x| ≈ 1e-8·x² at most.
    ///
    /// Without the final ½ (`Mul(x, 1+erf)` alone, a later `Mul` by 0.5
    /// following) the result is 2·GELU, recorded in `scaled` so that the
    /// ×0.5 gives the GELU back exactly.
    fn gelu_pattern(&mut self, a: usize, b: usize, ctx: &str) -> OnnxResult<Option<usize>> {
        let origin = format!("{ctx} (x*0.5*(1+erf(x/sqrt 2)) as GELU)");
        for (p, q) in [(a, b), (b, a)] {
            let (x, doubled) = if let Some(x) = self.one_plus_erf_of(q) {
                if p == x {
                    (x, true)
                } else if self.half_of(p) == Some(x) {
                    (x, false)
                } else {
                    continue;
                }
            } else if let Some(x) = self.half_of(q).and_then(|h| self.one_plus_erf_of(h)) {
                if p != x {
                    continue;
                }
                (x, false)
            } else {
                continue;
            };
            let s = self.dyns[x].shape.clone();
            let g = self.unary(x, Layer::Gelu, "gelu", s.clone(), &origin);
            if !doubled {
                return Ok(Some(g));
            }
            let n = shapes::prod(&s);
            let twice = self.elementwise(
                g,
                Elementwise::Affine {
                    factor: vec![2.0; n],
                    divide: false,
                    shift: vec![0.0; n],
                },
                &origin,
            )?;
            self.scaled.insert(twice, (g, 2.0));
            return Ok(Some(twice));
        }
        Ok(None)
    }

    /// `t = relu6(x + 3)` (`Clip(x + 3, 0, 6)`): x.
    fn relu6_shift_of(&self, t: usize) -> Option<usize> {
        let Producer::Unary { input, node, .. } = &self.dyns[t].producer else {
            return None;
        };
        let is_relu6 = matches!(&node.layer, Layer::Elementwise(e)
            if **e == Elementwise::Clip { min: 0.0, max: 6.0 });
        match self.uniform_affine(*input)? {
            (x, f, false, sh) if is_relu6 && f == 1.0 && sh == 3.0 => Some(x),
            _ => None,
        }
    }

    /// Hard-swish as PaddlePaddle (and others) write it,
    /// x·clip(x + 3, 0, 6)/6 or x·relu6(x + 3)/6: one
    /// [`Elementwise::HardSwish`] (slope interval [−½, 3/2]).
    /// `Mul(x, relu6(x+3)/6)` is the activation; `Mul(x, relu6(x+3))` is
    /// 6·hard-swish (recorded in `scaled`: a following ÷6 gives the
    /// activation back exactly; a ×fl(1/6) stays a separate scaling, since
    /// fl(1/6) ≠ 1/6).
    fn hard_swish_pattern(&mut self, a: usize, b: usize, ctx: &str) -> OnnxResult<Option<usize>> {
        let origin = format!("{ctx} (x*relu6(x+3)/6 as hard-swish)");
        for (p, q) in [(a, b), (b, a)] {
            let sixth = match self.uniform_affine(q) {
                Some((u, f, true, sh)) if f == 6.0 && sh == 0.0 => {
                    self.relu6_shift_of(u).filter(|&x| x == p)
                }
                _ => None,
            };
            let x = match sixth {
                Some(x) => x,
                None => match self.relu6_shift_of(q) {
                    Some(x) if x == p => {
                        let hs = self.elementwise(x, Elementwise::HardSwish, &origin)?;
                        let n = shapes::prod(&self.dyns[x].shape);
                        let six = self.elementwise(
                            hs,
                            Elementwise::Affine {
                                factor: vec![6.0; n],
                                divide: false,
                                shift: vec![0.0; n],
                            },
                            &origin,
                        )?;
                        self.scaled.insert(six, (hs, 6.0));
                        return Ok(Some(six));
                    }
                    _ => continue,
                },
            };
            return Ok(Some(self.elementwise(
                x,
                Elementwise::HardSwish,
                &origin,
            )?));
        }
        Ok(None)
    }

    /// x·sigmoid(x) written as two nodes: one SiLU activation.
    fn silu_pattern(&mut self, a: usize, b: usize, ctx: &str) -> Option<usize> {
        let is_sigmoid_of = |s: usize, x: usize| matches!(&self.dyns[s].producer, Producer::Unary { input, node, .. } if *input == x && matches!(node.layer, Layer::Sigmoid));
        let x = if is_sigmoid_of(b, a) {
            a
        } else if is_sigmoid_of(a, b) {
            b
        } else {
            return None;
        };
        let s = self.dyns[x].shape.clone();
        Some(self.unary(
            x,
            Layer::Silu,
            "silu",
            s,
            &format!("{ctx} (x*sigmoid(x) as SiLU)"),
        ))
    }

    fn sum(&mut self, a: usize, b: usize, ctx: &str) -> OnnxResult<usize> {
        let (sa, sb) = (self.dyns[a].shape.clone(), self.dyns[b].shape.clone());
        if sa != sb {
            return Err(unsupported(format!(
                "{ctx}: sum of input-dependent tensors of shapes {sa:?} and {sb:?} (broadcasting between them is not supported yet)"
            )));
        }
        Ok(self.push(
            sa,
            Producer::Sum {
                a,
                b,
                origin: ctx.to_string(),
            },
        ))
    }

    fn concat(
        &mut self,
        _node: &NodeProto,
        ctx: &str,
        inputs: &[Option<Value>],
        attrs: &Attrs,
    ) -> OnnxResult<Vec<Value>> {
        let mut parts = Vec::new();
        for v in inputs.iter().flatten() {
            match v {
                Value::Dyn(d) => parts.push(*d),
                Value::Const(_) => {
                    return Err(unsupported(format!(
                        "{ctx}: concatenation of input-dependent and constant tensors"
                    )))
                }
            }
        }
        let s0 = self.dyns[parts[0]].shape.clone();
        let a = shapes::axis(
            attrs.int("axis", if self.opset < 4 { 1 } else { 0 })?,
            s0.len(),
            ctx,
        )?;
        let mut out = s0.clone();
        out[a] = 0;
        let mut lens = Vec::new();
        for &p in &parts {
            let sp = &self.dyns[p].shape;
            if sp.len() != s0.len() || sp.iter().enumerate().any(|(i, &d)| i != a && d != s0[i]) {
                return Err(invalid(format!(
                    "{ctx}: concatenated shapes {s0:?} and {sp:?} differ off axis {a}"
                )));
            }
            lens.push(sp[a]);
            out[a] += sp[a];
        }
        if parts.len() == 1 {
            return Ok(vec![Value::Dyn(parts[0])]);
        }
        let outer = shapes::prod(&s0[..a]);
        let inner = shapes::prod(&s0[a + 1..]);
        Ok(vec![Value::Dyn(self.push(
            out,
            Producer::Concat {
                parts,
                outer,
                inner,
                lens,
                origin: ctx.to_string(),
            },
        ))])
    }

    fn batchnorm(
        &mut self,
        x: usize,
        s: &[usize],
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
        _node: &NodeProto,
    ) -> OnnxResult<Vec<Value>> {
        if attrs.int("training_mode", 0)? != 0 {
            return Err(unsupported(format!(
                "{ctx}: training_mode = 1 (batch statistics)"
            )));
        }
        if self.opset < 9 && attrs.int("spatial", 1)? == 0 {
            return Err(unsupported(format!("{ctx}: spatial = 0")));
        }
        if s.len() < 2 {
            return Err(invalid(format!("{ctx}: input of rank {}", s.len())));
        }
        let c = s[1];
        let get = |i: usize, what: &str| -> OnnxResult<Vec<f64>> {
            let t = konst(i).ok_or_else(|| invalid(format!("{ctx}: missing {what}")))?;
            if t.len() != c {
                return Err(invalid(format!(
                    "{ctx}: {what} has {} values for {c} channels",
                    t.len()
                )));
            }
            Ok(t.as_f64())
        };
        let layer = Layer::BatchNorm {
            gamma: get(1, "scale")?,
            beta: get(2, "bias")?,
            mean: get(3, "mean")?,
            var: get(4, "var")?,
            eps: attrs.float("epsilon", 1e-5)?,
            spatial: shapes::prod(&s[2..]),
        };
        let kind = if s.len() == 4 {
            "batchnorm2d"
        } else {
            "batchnorm1d"
        };
        Ok(vec![Value::Dyn(self.unary(
            x,
            layer,
            kind,
            s.to_vec(),
            ctx,
        ))])
    }

    /// Per-axis pads from `pads`/`auto_pad` for input `n`, kernel span.
    #[allow(clippy::too_many_arguments)]
    fn pads_2d(
        attrs: &Attrs,
        spatial: &[usize],
        kernel: &[usize],
        stride: &[usize],
        dilation: &[usize],
        ctx: &str,
    ) -> OnnxResult<Vec<(usize, usize)>> {
        let d = spatial.len();
        let auto = attrs.string("auto_pad", "NOTSET")?;
        match auto.as_str() {
            "NOTSET" => {
                let pads = attrs.ints("pads")?.unwrap_or(vec![0; 2 * d]);
                if pads.len() != 2 * d || pads.iter().any(|&p| p < 0) {
                    return Err(invalid(format!(
                        "{ctx}: pads {pads:?} must be {} non-negative values",
                        2 * d
                    )));
                }
                Ok((0..d)
                    .map(|i| (pads[i] as usize, pads[i + d] as usize))
                    .collect())
            }
            "VALID" => Ok(vec![(0, 0); d]),
            "SAME_UPPER" | "SAME_LOWER" => Ok((0..d)
                .map(|i| {
                    let out = spatial[i].div_ceil(stride[i]);
                    let span = dilation[i] * (kernel[i] - 1) + 1;
                    let total = ((out - 1) * stride[i] + span).saturating_sub(spatial[i]);
                    let small = total / 2;
                    if auto == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    }
                })
                .collect()),
            a => Err(invalid(format!("{ctx}: auto_pad '{a}'"))),
        }
    }

    fn spatial_attr(attrs: &Attrs, name: &str, d: usize, ctx: &str) -> OnnxResult<Vec<usize>> {
        match attrs.ints(name)? {
            None => Ok(vec![1; d]),
            Some(v) if v.len() == d && v.iter().all(|&x| x > 0) => {
                Ok(v.iter().map(|&x| x as usize).collect())
            }
            Some(v) => Err(invalid(format!(
                "{ctx}: {name} {v:?} must be {d} positive values"
            ))),
        }
    }

    /// The weight of a Conv or ConvTranspose (`what`) on an input of shape
    /// `s` and its spatial kernel shape, after the checks both share: a
    /// 1-D or 2-D input, a constant weight of the input's rank, and a
    /// `kernel_shape` attribute (if any) equal to the weight's.
    fn conv_weight(
        s: &[usize],
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
        what: &str,
    ) -> OnnxResult<(Rc<ConstTensor>, Vec<usize>)> {
        let r = s.len();
        if !(3..=4).contains(&r) {
            return Err(unsupported(format!(
                "{ctx}: {}-D {what} (lipcert handles 1-D and 2-D)",
                r.saturating_sub(2)
            )));
        }
        let w = konst(1).ok_or_else(|| invalid(format!("{ctx}: missing weight")))?;
        if w.shape.len() != r {
            return Err(invalid(format!(
                "{ctx}: weight of shape {:?} for an input of rank {r}",
                w.shape
            )));
        }
        let kernel: Vec<usize> = w.shape[2..].to_vec();
        if let Some(ks) = attrs.ints("kernel_shape")? {
            if ks.len() != kernel.len() || ks.iter().zip(&kernel).any(|(&a, &b)| a != b as i64) {
                return Err(invalid(format!(
                    "{ctx}: kernel_shape {ks:?} differs from the weight's {kernel:?}"
                )));
            }
        }
        Ok((w, kernel))
    }

    fn conv(
        &mut self,
        x: usize,
        s: &[usize],
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
        weight_name: &str,
    ) -> OnnxResult<Vec<Value>> {
        let (w, kernel) = Self::conv_weight(s, ctx, attrs, konst, "convolution")?;
        let d = s.len() - 2;
        let stride = Self::spatial_attr(attrs, "strides", d, ctx)?;
        let dilation = Self::spatial_attr(attrs, "dilations", d, ctx)?;
        let pads = Self::pads_2d(attrs, &s[2..], &kernel, &stride, &dilation, ctx)?;
        let groups = attrs.int("group", 1)?;
        if groups <= 0 {
            return Err(invalid(format!("{ctx}: group {groups}")));
        }
        let bias = konst(2).map(|b| b.as_f64());
        let (kh, kw, sh, sw, dh, dw, ph, pw, h, wd) = if d == 2 {
            (
                kernel[0],
                kernel[1],
                stride[0],
                stride[1],
                dilation[0],
                dilation[1],
                pads[0],
                pads[1],
                s[2],
                s[3],
            )
        } else {
            (
                1,
                kernel[0],
                1,
                stride[0],
                1,
                dilation[0],
                (0, 0),
                pads[0],
                1,
                s[2],
            )
        };
        let conv = ConvLayer::new(
            w.as_f64(),
            [w.shape[0], w.shape[1], kh, kw],
            bias,
            s[1],
            (h, wd),
            (sh, sw),
            (ph.0, ph.1, pw.0, pw.1),
            (dh, dw),
            groups as usize,
        )
        .map_err(lib(ctx))?;
        let mut out = vec![s[0], conv.c_out];
        if d == 2 {
            out.extend([conv.out_hw.0, conv.out_hw.1]);
        } else {
            out.push(conv.out_hw.1);
        }
        let info = self.weight_info(ctx, weight_name, &w);
        self.convs.push((info, conv.clone()));
        let kind = if d == 2 { "conv2d" } else { "conv1d" };
        Ok(vec![Value::Dyn(self.unary(
            x,
            Layer::Conv2d(Box::new(conv)),
            kind,
            out,
            ctx,
        ))])
    }

    /// ONNX `ConvTranspose` (1-D or 2-D) as the adjoint of a convolution
    /// ([`ConvTransposeLayer`], whose docs state the math). Pads: `pads`
    /// (NOTSET), zero (VALID), or derived from the output shape — given by
    /// `output_shape` (spatial dimensions, optionally preceded by N and C),
    /// else H_in·s for SAME_UPPER/SAME_LOWER — as the ONNX specification
    /// says: total = s(H_in − 1) + op + d(k − 1) + 1 − H_out, split
    /// (⌊total/2⌋ at the beginning, the rest at the end) for SAME_UPPER and
    /// the other way round otherwise.
    #[allow(clippy::too_many_arguments)]
    fn conv_transpose(
        &mut self,
        x: usize,
        s: &[usize],
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
        weight_name: &str,
    ) -> OnnxResult<Vec<Value>> {
        let (w, kernel) = Self::conv_weight(s, ctx, attrs, konst, "transposed convolution")?;
        let d = s.len() - 2;
        if w.shape[0] != s[1] {
            return Err(invalid(format!(
                "{ctx}: weight of shape {:?} has {} input channels, but the input has {} (ConvTranspose weights are (C_in, C_out/group, k…))",
                w.shape, w.shape[0], s[1]
            )));
        }
        let stride = Self::spatial_attr(attrs, "strides", d, ctx)?;
        let dilation = Self::spatial_attr(attrs, "dilations", d, ctx)?;
        let output_padding = match attrs.ints("output_padding")? {
            None => vec![0; d],
            Some(v) if v.len() == d && v.iter().all(|&p| p >= 0) => {
                v.iter().map(|&p| p as usize).collect()
            }
            Some(v) => {
                return Err(invalid(format!(
                    "{ctx}: output_padding {v:?} must be {d} non-negative values"
                )))
            }
        };
        let groups = attrs.int("group", 1)?;
        if groups <= 0 {
            return Err(invalid(format!("{ctx}: group {groups}")));
        }
        let auto = attrs.string("auto_pad", "NOTSET")?;
        if !matches!(
            auto.as_str(),
            "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER"
        ) {
            return Err(invalid(format!("{ctx}: auto_pad '{auto}'")));
        }
        // The requested output size per spatial axis, if any.
        let target: Option<Vec<usize>> = match attrs.ints("output_shape")? {
            Some(v) => {
                let spatial = if v.len() == d + 2 { &v[2..] } else { &v[..] };
                if spatial.len() != d || spatial.iter().any(|&o| o <= 0) {
                    return Err(invalid(format!(
                        "{ctx}: output_shape {v:?} must be {d} positive spatial sizes (optionally preceded by N and C)"
                    )));
                }
                Some(spatial.iter().map(|&o| o as usize).collect())
            }
            None if auto.starts_with("SAME") => Some(
                (0..d)
                    .map(|i| s[2 + i].checked_mul(stride[i]))
                    .collect::<Option<Vec<usize>>>()
                    .ok_or_else(|| invalid(format!("{ctx}: output size overflows")))?,
            ),
            None => None,
        };
        let pads: Vec<(usize, usize)> = match target {
            Some(t) => (0..d)
                .map(|i| {
                    let covered = || {
                        stride[i]
                            .checked_mul(s[2 + i].checked_sub(1)?)?
                            .checked_add(output_padding[i])?
                            .checked_add(dilation[i].checked_mul(kernel[i].checked_sub(1)?)?)?
                            .checked_add(1)
                    };
                    let full = covered().ok_or_else(|| {
                        invalid(format!("{ctx}: empty axis, empty kernel or an overflowing output size"))
                    })?;
                    let total = full.checked_sub(t[i]).ok_or_else(|| {
                        invalid(format!(
                            "{ctx}: output size {} on spatial axis {i} is larger than the {full} positions a transposed convolution of this geometry covers (the pads would be negative)",
                            t[i]
                        ))
                    })?;
                    let small = total / 2;
                    Ok(if auto == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    })
                })
                .collect::<OnnxResult<_>>()?,
            None if auto == "VALID" => vec![(0, 0); d],
            None => {
                let pads = attrs.ints("pads")?.unwrap_or(vec![0; 2 * d]);
                if pads.len() != 2 * d || pads.iter().any(|&p| p < 0) {
                    return Err(invalid(format!(
                        "{ctx}: pads {pads:?} must be {} non-negative values",
                        2 * d
                    )));
                }
                (0..d)
                    .map(|i| (pads[i] as usize, pads[i + d] as usize))
                    .collect()
            }
        };
        let axis = |i: usize| TransposeAxis {
            input: s[2 + i],
            kernel: kernel[i],
            stride: stride[i],
            dilation: dilation[i],
            pad_begin: pads[i].0,
            pad_end: pads[i].1,
            output_padding: output_padding[i],
        };
        let unit = TransposeAxis {
            input: 1,
            kernel: 1,
            stride: 1,
            dilation: 1,
            pad_begin: 0,
            pad_end: 0,
            output_padding: 0,
        };
        let (rows, cols) = if d == 2 {
            (axis(0), axis(1))
        } else {
            (unit, axis(0))
        };
        let bias = konst(2).map(|b| b.as_f64());
        let layer = ConvTransposeLayer::new(
            w.as_f64(),
            [w.shape[0], w.shape[1], rows.kernel, cols.kernel],
            bias,
            s[1],
            groups as usize,
            rows,
            cols,
        )
        .map_err(lib(ctx))?;
        let (oh, ow) = layer.out_hw();
        let mut out = vec![s[0], layer.c_out()];
        if d == 2 {
            out.extend([oh, ow]);
        } else {
            out.push(ow);
        }
        let mut info = self.weight_info(ctx, weight_name, &w);
        info.transposed = true;
        self.convs.push((info, layer.conv.clone()));
        let kind = if d == 2 {
            "conv_transpose2d"
        } else {
            "conv_transpose1d"
        };
        Ok(vec![Value::Dyn(self.unary(
            x,
            Layer::ConvTranspose2d(Box::new(layer)),
            kind,
            out,
            ctx,
        ))])
    }

    #[allow(clippy::too_many_arguments)]
    fn matmul(
        &mut self,
        x: usize,
        s: &[usize],
        op: &str,
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
        second_dyn: Option<usize>,
        weight_name: &str,
    ) -> OnnxResult<Vec<Value>> {
        if second_dyn.is_some() {
            return Err(not_lipschitz(
                ctx,
                "a product of two tensors that both depend on the input",
            ));
        }
        let b = konst(1).ok_or_else(|| invalid(format!("{ctx}: missing second operand")))?;
        if b.shape.len() != 2 {
            return Err(unsupported(format!(
                "{ctx}: constant operand of rank {} (lipcert handles matrices)",
                b.shape.len()
            )));
        }
        let bv = b.as_f64();
        let (k, n, trans_b, alpha, beta) = if op == "Gemm" {
            if attrs.int("transA", 0)? != 0 {
                return Err(unsupported(format!(
                    "{ctx}: transA = 1 on the input-dependent operand"
                )));
            }
            let tb = attrs.int("transB", 0)? != 0;
            let (k, n) = if tb {
                (b.shape[1], b.shape[0])
            } else {
                (b.shape[0], b.shape[1])
            };
            (
                k,
                n,
                tb,
                attrs.float("alpha", 1.0)?,
                attrs.float("beta", 1.0)?,
            )
        } else {
            (b.shape[0], b.shape[1], false, 1.0, 1.0)
        };
        if s.last() != Some(&k) || (op == "Gemm" && s.len() != 2) {
            return Err(invalid(format!(
                "{ctx}: input of shape {s:?} does not match the weight of shape {:?}",
                b.shape
            )));
        }
        let rows = shapes::prod(&s[..s.len() - 1]);
        // W (n × k): W[j][i] = B[i][j] (or B[j][i] when transB).
        let w = DenseMatrix::from_fn(n, k, |j, i| {
            if trans_b {
                bv[j * k + i]
            } else {
                bv[i * n + j]
            }
        })
        .map_err(lib(ctx))?;
        let info = self.weight_info(ctx, weight_name, &b);
        self.matrices.push((info, w.clone()));
        let mut out = s.to_vec();
        *out.last_mut().expect("rank ≥ 1") = n;
        let weight = if rows == 1 {
            w
        } else {
            if rows * rows * n * k > MAX_KRON_ENTRIES {
                return Err(unsupported(format!(
                    "{ctx}: MatMul over {rows} rows would need a {}×{} matrix",
                    rows * n,
                    rows * k
                )));
            }
            DenseMatrix::from_fn(rows * n, rows * k, |p, q| {
                if p / n == q / k {
                    w.get(p % n, q % k)
                } else {
                    0.0
                }
            })
            .map_err(lib(ctx))?
        };
        let c = if op == "Gemm" { konst(2) } else { None };
        let bias = match &c {
            Some(c) => {
                let v = self.expand(c, &out, ctx)?;
                Some(v.iter().map(|v| beta * v).collect::<Vec<f64>>())
            }
            None => None,
        };
        if alpha == 1.0 {
            let id = self.unary(x, Layer::Linear { weight, bias }, "linear", out, ctx);
            return Ok(vec![Value::Dyn(id)]);
        }
        // alpha kept as its own exact scaling (the weights are not rounded).
        let id = self.unary(
            x,
            Layer::Linear { weight, bias: None },
            "linear",
            out.clone(),
            ctx,
        );
        let len = shapes::prod(&out);
        let shift = bias.unwrap_or(vec![0.0; len]);
        Ok(vec![Value::Dyn(self.elementwise(
            id,
            Elementwise::Affine {
                factor: vec![alpha; len],
                divide: false,
                shift,
            },
            ctx,
        )?)])
    }

    fn pool(
        &mut self,
        x: usize,
        s: &[usize],
        op: &str,
        ctx: &str,
        attrs: &Attrs,
        node: &NodeProto,
    ) -> OnnxResult<Vec<Value>> {
        let r = s.len();
        if !(3..=4).contains(&r) {
            return Err(unsupported(format!(
                "{ctx}: {}-D pooling (lipcert handles 1-D and 2-D)",
                r.saturating_sub(2)
            )));
        }
        // A MaxPool Indices output is refused where it is used (poisoned).
        let _ = node;
        let d = r - 2;
        let kernel: Vec<usize> = attrs
            .ints("kernel_shape")?
            .ok_or_else(|| invalid(format!("{ctx}: missing kernel_shape")))?
            .iter()
            .map(|&k| {
                if k > 0 {
                    Ok(k as usize)
                } else {
                    Err(invalid(format!("{ctx}: kernel size {k}")))
                }
            })
            .collect::<OnnxResult<_>>()?;
        if kernel.len() != d {
            return Err(invalid(format!(
                "{ctx}: kernel_shape has {} entries for {d} spatial axes",
                kernel.len()
            )));
        }
        let stride = Self::spatial_attr(attrs, "strides", d, ctx)?;
        let dilation = Self::spatial_attr(attrs, "dilations", d, ctx)?;
        let pads = Self::pads_2d(attrs, &s[2..], &kernel, &stride, &dilation, ctx)?;
        let ceil = attrs.int("ceil_mode", 0)? != 0;
        let include_pad = attrs.int("count_include_pad", 0)? != 0;
        let mut axes = Vec::new();
        for i in 0..d {
            axes.push(pool_windows(
                s[2 + i],
                kernel[i],
                stride[i],
                pads[i],
                dilation[i],
                ceil,
                include_pad,
                ctx,
            )?);
        }
        let (rows, cols) = if d == 2 {
            (axes[0].clone(), axes[1].clone())
        } else {
            (
                pool_windows(1, 1, 1, (0, 0), 1, false, false, ctx)?,
                axes[0].clone(),
            )
        };
        let pool = Pool2d { rows, cols };
        let (oh, ow) = pool.output_hw();
        let mut out = vec![s[0], s[1]];
        if d == 2 {
            out.extend([oh, ow]);
        } else {
            out.push(ow);
        }
        let c = s[1];
        let (layer, kind) = if op == "MaxPool" {
            (Layer::MaxPool2d { channels: c, pool }, "maxpool2d")
        } else {
            (Layer::AvgPool2d { channels: c, pool }, "avgpool2d")
        };
        Ok(vec![Value::Dyn(self.unary(x, layer, kind, out, ctx))])
    }

    /// `Resize`/`Upsample` in nearest mode: a selection (each output copies
    /// one input), Lipschitz constant √(max replication); see
    /// [`super::resize`]. Interpolating modes are refused.
    #[allow(clippy::too_many_arguments)]
    fn resize(
        &mut self,
        x: usize,
        s: &[usize],
        op: &str,
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
    ) -> OnnxResult<Vec<Value>> {
        let mode = attrs.string("mode", "nearest")?;
        if mode != "nearest" {
            return Err(unsupported(format!(
                "{ctx}: mode '{mode}' (lipcert supports nearest-neighbour resizing; interpolation is linear too but not supported yet)"
            )));
        }
        let r = s.len();
        let legacy = op == "Upsample" || self.opset < 11;
        let (scales, sizes) = if op == "Upsample" && self.opset < 9 {
            (attrs.floats("scales")?, None)
        } else if legacy {
            (konst(1).map(|t| t.as_f64()), None)
        } else {
            if attrs.ints("axes")?.is_some() {
                return Err(unsupported(format!("{ctx}: the axes attribute")));
            }
            if attrs.string("coordinate_transformation_mode", "half_pixel")? == "tf_crop_and_resize"
            {
                return Err(unsupported(format!(
                    "{ctx}: coordinate_transformation_mode 'tf_crop_and_resize'"
                )));
            }
            let scales = konst(2).map(|t| t.as_f64()).filter(|v| !v.is_empty());
            let sizes = konst(3).map(|t| t.as_i64(ctx)).transpose()?;
            if sizes.is_some() && attrs.string("keep_aspect_ratio_policy", "stretch")? != "stretch"
            {
                return Err(unsupported(format!(
                    "{ctx}: keep_aspect_ratio_policy other than 'stretch'"
                )));
            }
            (scales, sizes)
        };
        let rule = if legacy {
            super::resize::NearestRule::legacy()
        } else {
            super::resize::NearestRule {
                transform: attrs.string("coordinate_transformation_mode", "half_pixel")?,
                rounding: attrs.string("nearest_mode", "round_prefer_floor")?,
            }
        };
        let mut out = Vec::with_capacity(r);
        let mut scale = Vec::with_capacity(r);
        match (sizes, scales) {
            (Some(sz), _) => {
                if sz.len() != r || sz.iter().any(|&v| v <= 0) {
                    return Err(invalid(format!(
                        "{ctx}: sizes {sz:?} must be {r} positive values"
                    )));
                }
                for (a, &v) in sz.iter().enumerate() {
                    out.push(v as usize);
                    scale.push(v as f64 / s[a] as f64);
                }
            }
            (None, Some(sc)) => {
                if sc.len() != r || sc.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                    return Err(invalid(format!(
                        "{ctx}: scales {sc:?} must be {r} positive numbers"
                    )));
                }
                for (a, &v) in sc.iter().enumerate() {
                    let o = (s[a] as f64 * v).floor();
                    if !(o >= 1.0 && o <= shapes::prod(s) as f64 * 1e6) {
                        return Err(invalid(format!(
                            "{ctx}: scale {v} gives an output length {o} on axis {a}"
                        )));
                    }
                    out.push(o as usize);
                    scale.push(v);
                }
            }
            (None, None) => {
                return Err(invalid(format!("{ctx}: neither constant scales nor sizes")))
            }
        }
        element_count(&out, ctx)?;
        let idx = (0..r)
            .map(|a| rule.indices(s[a], out[a], scale[a], ctx))
            .collect::<OnnxResult<Vec<_>>>()?;
        let map = super::resize::resize_map(s, &out, &idx);
        Ok(vec![Value::Dyn(
            self.select(x, map, 0.0, out, "resize", ctx)?,
        )])
    }

    /// `ReduceMean`: the mean over the given axes (all when none) is linear;
    /// each axis is one average-pooling layer over (outer, len, inner) with
    /// one window covering the axis (its norm 1/√len is exact), and without
    /// `keepdims` a reshape drops the axes.
    fn reduce_mean(
        &mut self,
        x: usize,
        s: &[usize],
        ctx: &str,
        attrs: &Attrs,
        konst: &dyn Fn(usize) -> Option<Rc<ConstTensor>>,
    ) -> OnnxResult<Vec<Value>> {
        let r = s.len();
        let axes = if self.opset >= 18 {
            konst(1).map(|t| t.as_i64(ctx)).transpose()?
        } else {
            attrs.ints("axes")?
        };
        let axes: Vec<usize> = match axes {
            Some(a) if !a.is_empty() => {
                let mut v = a
                    .iter()
                    .map(|&a| shapes::axis(a, r, ctx))
                    .collect::<OnnxResult<Vec<_>>>()?;
                v.sort_unstable();
                v.dedup();
                v
            }
            _ if self.opset >= 18 && attrs.int("noop_with_empty_axes", 0)? != 0 => {
                return Ok(vec![Value::Dyn(x)]);
            }
            _ => (0..r).collect(),
        };
        let keep = attrs.int("keepdims", 1)? != 0;
        let mut cur = x;
        let mut shape = s.to_vec();
        for &a in &axes {
            let len = shape[a];
            if len == 1 {
                continue;
            }
            let outer = shapes::prod(&shape[..a]);
            let inner = shapes::prod(&shape[a + 1..]);
            let pool = Pool2d {
                rows: Windows1d::adaptive(len, 1).map_err(lib(ctx))?,
                cols: Windows1d {
                    input_len: inner,
                    windows: (0..inner).map(|j| vec![j]).collect(),
                    divisors: vec![1; inner],
                },
            };
            shape[a] = 1;
            cur = self.unary(
                cur,
                Layer::AvgPool2d {
                    channels: outer,
                    pool,
                },
                "avgpool2d",
                shape.clone(),
                ctx,
            );
        }
        if !keep {
            let out: Vec<usize> = (0..r)
                .filter(|i| !axes.contains(i))
                .map(|i| shape[i])
                .collect();
            if out != shape {
                cur = self.unary(cur, Layer::Flatten, "reshape", out, ctx);
            }
        }
        Ok(vec![Value::Dyn(cur)])
    }

    // -----------------------------------------------------------------------
    // series-parallel decomposition

    /// Immediate dominators (tensor ids are in topological order).
    fn dominators(&self) -> Vec<usize> {
        let n = self.dyns.len();
        let mut idom = vec![0usize; n];
        let mut depth = vec![0usize; n];
        let lca = |mut a: usize, mut b: usize, idom: &[usize], depth: &[usize]| {
            while a != b {
                if depth[a] >= depth[b] {
                    if a == 0 {
                        return 0;
                    }
                    a = idom[a];
                } else {
                    b = idom[b];
                }
            }
            a
        };
        for t in 1..n {
            let preds: Vec<usize> = match &self.dyns[t].producer {
                Producer::Input => vec![0],
                Producer::Unary { input, .. } => vec![*input],
                Producer::Sum { a, b, .. } => vec![*a, *b],
                Producer::Concat { parts, .. } => parts.clone(),
                Producer::Erf { input, .. } => vec![*input],
            };
            let mut d = preds[0];
            for &p in &preds[1..] {
                d = lca(d, p, &idom, &depth);
            }
            idom[t] = d;
            depth[t] = depth[d] + 1;
        }
        idom
    }

    /// The IR nodes computing tensor `to` from tensor `from` (which
    /// dominates it), each with the ONNX node(s) it covers.
    fn chain(
        &self,
        from: usize,
        to: usize,
        idom: &[usize],
        budget: &mut usize,
    ) -> OnnxResult<Vec<(Node, String)>> {
        let mut rev: Vec<(Node, String)> = Vec::new();
        let mut t = to;
        while t != from {
            if *budget == 0 {
                return Err(unsupported(format!(
                    "the graph shares tensors between branches so much that its series-parallel form exceeds {MAX_IR_NODES} layers (densely connected blocks are not supported yet)"
                )));
            }
            *budget -= 1;
            match &self.dyns[t].producer {
                Producer::Input => {
                    return Err(invalid("internal: the walk left the dominator tree"))
                }
                Producer::Erf { origin, .. } => {
                    return Err(unsupported(format!(
                        "{origin}: Erf outside a GELU pattern x·0.5·(1 + erf(x/√2)) is not supported yet"
                    )))
                }
                Producer::Unary {
                    input,
                    node,
                    origin,
                } => {
                    rev.push(((**node).clone(), origin.clone()));
                    t = *input;
                }
                Producer::Sum { a, b, origin } => {
                    let d = idom[t];
                    let (a, b) = if *a == d { (*b, *a) } else { (*a, *b) };
                    let body: Vec<Node> = self
                        .chain(d, a, idom, budget)?
                        .into_iter()
                        .map(|p| p.0)
                        .collect();
                    let short: Vec<Node> = self
                        .chain(d, b, idom, budget)?
                        .into_iter()
                        .map(|p| p.0)
                        .collect();
                    let shortcut = if b == d { None } else { Some(short) };
                    let count = body.len() + shortcut.as_ref().map_or(0, Vec::len);
                    let node = Node {
                        kind: "residual",
                        layer: Layer::Residual { body, shortcut },
                        shape_in: strip(&self.dyns[d].shape),
                        shape_out: strip(&self.dyns[t].shape),
                        bound: None,
                    };
                    rev.push((node, format!("{origin} over {count} layers")));
                    t = d;
                }
                Producer::Concat {
                    parts,
                    outer,
                    inner,
                    lens,
                    origin,
                } => {
                    let d = idom[t];
                    let mut branches = Vec::new();
                    for &p in parts {
                        branches.push(
                            self.chain(d, p, idom, budget)?
                                .into_iter()
                                .map(|p| p.0)
                                .collect::<Vec<Node>>(),
                        );
                    }
                    let count: usize = branches.iter().map(Vec::len).sum();
                    let node = Node {
                        kind: "concat",
                        layer: Layer::Concat {
                            branches,
                            outer: *outer,
                            inner: *inner,
                            lens: lens.clone(),
                        },
                        shape_in: strip(&self.dyns[d].shape),
                        shape_out: strip(&self.dyns[t].shape),
                        bound: None,
                    };
                    rev.push((node, format!("{origin} over {count} layers")));
                    t = d;
                }
            }
        }
        rev.reverse();
        Ok(rev)
    }
}

/// ONNX pooling windows along one axis: output length
/// ⌊(L + p_b + p_e − span)/s⌋ + 1 (⌈·⌉ with `ceil_mode`, dropping a last
/// window that would start in the end padding), window i = {i·s − p_b + d·t}.
/// Divisors count the positions inside [−p_b, L + p_e) when padding counts,
/// else the in-bounds positions.
#[allow(clippy::too_many_arguments)]
pub fn pool_windows(
    len: usize,
    kernel: usize,
    stride: usize,
    pads: (usize, usize),
    dilation: usize,
    ceil: bool,
    include_pad: bool,
    ctx: &str,
) -> OnnxResult<Windows1d> {
    let span = dilation * (kernel - 1) + 1;
    let padded = len + pads.0 + pads.1;
    if padded < span {
        return Err(invalid(format!(
            "{ctx}: pooling window (span {span}) is larger than the padded input ({padded})"
        )));
    }
    let mut out = if ceil {
        (padded - span).div_ceil(stride) + 1
    } else {
        (padded - span) / stride + 1
    };
    if ceil && (out - 1) * stride >= len + pads.0 {
        out -= 1;
    }
    let mut windows = Vec::with_capacity(out);
    let mut divisors = Vec::with_capacity(out);
    for i in 0..out {
        let mut w = Vec::new();
        let mut in_padded = 0;
        for t in 0..kernel {
            let pos = (i * stride + dilation * t) as i64 - pads.0 as i64;
            if pos >= 0 && (pos as usize) < len {
                w.push(pos as usize);
            }
            if pos < (len + pads.1) as i64 {
                in_padded += 1;
            }
        }
        if w.is_empty() {
            return Err(unsupported(format!(
                "{ctx}: a pooling window lies entirely in the padding"
            )));
        }
        divisors.push(if include_pad { in_padded } else { w.len() });
        windows.push(w);
    }
    Ok(Windows1d {
        input_len: len,
        windows,
        divisors,
    })
}

/// Reads an ONNX test vector (`input_0.pb`, `output_0.pb`).
pub fn read_tensor_file(path: &Path) -> OnnxResult<ConstTensor> {
    let bytes = crate::io::regular_file::read_regular(path, MAX_MODEL_BYTES, "an ONNX tensor")
        .map_err(|e| invalid(e.to_string()))?;
    let t = proto::decode_tensor(&bytes)
        .map_err(|e| invalid(format!("{}: not a TensorProto ({e})", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    decode(&t, dir).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

/// Evaluates the imported network on `x` (flat, the graph input's layout)
/// and splits the result into the graph outputs. An `x` holding k samples
/// (k·input length values, batch first) is evaluated sample by sample and
/// each output concatenated over the samples.
pub fn forward_outputs(net: &OnnxNetwork, x: &[f64]) -> OnnxResult<Vec<Vec<f64>>> {
    let n_in = net.network.input_len();
    if n_in == 0 || x.is_empty() || x.len() % n_in != 0 {
        return Err(invalid(format!(
            "forward: the input has {} values, not a multiple of the sample size {n_in} (input shape {:?})",
            x.len(),
            net.input_shape
        )));
    }
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); net.outputs.len()];
    for sample in x.chunks(n_in) {
        let y = crate::network::evaluate::forward(&net.network, sample)
            .map_err(|e| invalid(format!("forward: {e}")))?;
        let mut off = 0;
        for (o, (_, s)) in out.iter_mut().zip(&net.outputs) {
            let n = shapes::prod(s);
            o.extend_from_slice(&y[off..off + n]);
            off += n;
        }
    }
    Ok(out)
}
