#!/usr/bin/python3
"""Writes the layer graphs of capture/models/*.json: AlexNet, ResNet-50,
VGG-19, SSD-300 (VGG-16 backbone) and ViT-B/16, the architectures of
torchvision's models of the same names (ssd300_vgg16: 91 classes), so that
their parameter counts can be checked against torchvision's published
figures (tests/test_capture.c). The JSON files are committed; rerun this
only to change them:  /usr/bin/python3 scripts/gen-models.py
"""
import json
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "capture", "models")


class G:
    def __init__(self, name, shape, source):
        self.name, self.layers, self.n = name, [], {}
        self.meta = {"name": name, "input": shape, "source": source}
        self.last = "input"

    def add(self, op, name=None, inputs=None, **kw):
        if name is None:
            self.n[op] = self.n.get(op, 0) + 1
            name = f"{op}{self.n[op]}"
        layer = {"name": name, "op": op}
        if inputs is not None:
            layer["input"] = inputs
        elif self.layers and self.last != self.layers[-1]["name"]:
            layer["input"] = self.last
        layer.update(kw)
        self.layers.append(layer)
        self.last = name
        return name

    def conv(self, out, k, s=1, p=0, bias=True, relu=True, name=None, **kw):
        n = self.add("conv", name, out=out, kernel=k, stride=s, pad=p,
                     bias=bias, **kw)
        if relu:
            self.add("relu")
        return n

    def classifier(self, pool_out):
        """AlexNet's and VGG's head: an adaptive average pool to
        pool_out x pool_out, then fc 4096, fc 4096, fc 1000."""
        self.add("avgpool", out=pool_out)
        for out in (4096, 4096):
            self.add("fc", out=out)
            self.add("relu")
        self.add("fc", out=1000)

    def write(self, outputs=None):
        g = dict(self.meta)
        if outputs:
            g["outputs"] = outputs
        g["layers"] = self.layers
        with open(os.path.join(OUT, self.name + ".json"), "w") as f:
            f.write("{\n")
            for k in ("name", "input", "source"):
                f.write(f'  "{k}": {json.dumps(g[k])},\n')
            if outputs:
                f.write(f'  "outputs": {json.dumps(outputs)},\n')
            f.write('  "layers": [\n')
            f.write(",\n".join("    " + json.dumps(l) for l in self.layers))
            f.write("\n  ]\n}\n")


def alexnet():
    g = G("alexnet", [3, 224, 224], "torchvision alexnet (61,100,840 parameters)")
    g.conv(64, 11, 4, 2)
    g.add("maxpool", kernel=3, stride=2)
    g.conv(192, 5, 1, 2)
    g.add("maxpool", kernel=3, stride=2)
    g.conv(384, 3, 1, 1)
    g.conv(256, 3, 1, 1)
    g.conv(256, 3, 1, 1)
    g.add("maxpool", kernel=3, stride=2)
    g.classifier(6)
    g.write()


def vgg(name, cfg, source, bn=False):
    g = G(name, [3, 224, 224], source)
    for v in cfg:
        if v == "M":
            g.add("maxpool", kernel=2, stride=2)
        else:
            g.conv(v, 3, 1, 1)
    g.classifier(7)
    g.write()


def resnet50():
    g = G("resnet50", [3, 224, 224], "torchvision resnet50 v1.5 (25,557,032 parameters)")
    g.conv(64, 7, 2, 3, bias=False, relu=False)
    g.add("bn")
    g.add("relu")
    g.add("maxpool", kernel=3, stride=2, pad=1)
    for stage, (width, blocks, stride) in enumerate(
            [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
        for b in range(blocks):
            s = stride if b == 0 else 1
            entry = g.last
            pre = f"l{stage}b{b}"
            g.add("conv", f"{pre}c1", entry, out=width, kernel=1, bias=False)
            g.add("bn")
            g.add("relu")
            g.add("conv", f"{pre}c2", out=width, kernel=3, stride=s, pad=1, bias=False)
            g.add("bn")
            g.add("relu")
            g.add("conv", f"{pre}c3", out=width * 4, kernel=1, bias=False)
            main = g.add("bn")
            short = entry
            if b == 0:
                g.add("conv", f"{pre}down", entry, out=width * 4, kernel=1,
                      stride=s, bias=False)
                short = g.add("bn")
            g.add("add", f"{pre}add", [main, short])
            g.add("relu")
    g.add("avgpool", out=1)
    g.add("fc", out=1000)
    g.write()


def ssd300():
    g = G("ssd300", [3, 300, 300],
          "torchvision ssd300_vgg16, 91 classes (35,641,826 parameters)")
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "MC", 512, 512, 512]:
        if v == "M":
            g.add("maxpool", kernel=2, stride=2)
        elif v == "MC":
            g.add("maxpool", kernel=2, stride=2, ceil=True)
        else:
            g.conv(v, 3, 1, 1)
    feats = [g.add("l2norm", "conv4_3_norm")]
    g.add("maxpool", "pool4", g.last if False else None, kernel=2, stride=2)
    # pool4 reads conv4_3's relu, not the norm
    g.layers[-1]["input"] = g.layers[-3]["name"]
    for _ in range(3):
        g.conv(512, 3, 1, 1)
    g.add("maxpool", "pool5", kernel=3, stride=1, pad=1)
    g.conv(1024, 3, 1, 6, dilation=6, name="fc6")
    g.conv(1024, 1, name="fc7")
    feats.append(g.last)
    for mid, out, s, p in [(256, 512, 2, 1), (128, 256, 2, 1), (128, 256, 1, 0),
                           (128, 256, 1, 0)]:
        g.conv(mid, 1)
        g.conv(out, 3, s, p)
        feats.append(g.last)
    outputs = []
    for i, (f, a) in enumerate(zip(feats, [4, 6, 6, 6, 4, 4])):
        outputs.append(g.add("conv", f"cls{i}", f, out=a * 91, kernel=3, pad=1))
        outputs.append(g.add("conv", f"reg{i}", f, out=a * 4, kernel=3, pad=1))
    g.write(outputs)


def vit_b16():
    g = G("vit_b16", [3, 224, 224], "torchvision vit_b_16 (86,567,656 parameters)")
    g.add("conv", "patch", out=768, kernel=16, stride=16, bias=True)
    g.add("tokens", "tokens", cls=True)          # 14x14 -> 197 x 768, + pos
    for i in range(12):
        g.add("encoder", f"enc{i}", heads=12, mlp=3072)
    g.add("layernorm", "ln")
    g.add("fc", "head", out=1000, token=0)
    g.write()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    alexnet()
    vgg("vgg19", [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                  512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
        "torchvision vgg19 (143,667,240 parameters)")
    resnet50()
    ssd300()
    vit_b16()
