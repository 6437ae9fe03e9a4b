{
  "variables": {
    "torch_include%": "<!(node -p \"process.env.PHYSIS_TORCH_INCLUDE || '/usr/include'\")",
    "torch_lib%": "<!(node -p \"process.env.PHYSIS_TORCH_LIB || '/usr/lib/x86_64-linux-gnu'\")"
  },
  "targets": [
    {
      "target_name": "physis_torch",
      "sources": ["src/addon.cpp", "src/tensor.cpp", "src/ops.cpp", "src/nn.cpp", "src/autograd.cpp", "src/distributed.cpp"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(torch_include)",
        "<(torch_include)/torch/csrc/api/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter",
                    "-Wno-deprecated-declarations", "<!(node -p \"process.env.PHYSIS_TORCH_CXXFLAGS || '-D_GLIBCXX_USE_CXX11_ABI=1'\")",
                    "<!@(node -p \"process.env.PHYSIS_TORCH_DEFINES || ''\")"],
      "libraries": ["-L<(torch_lib)", "-Wl,-rpath,<(torch_lib)", "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10",
                    "<!(node -p \"process.env.PHYSIS_TORCH_EXTRA_LIBS || ''\")", "-Wl,--as-needed"]
    }
  ]
}
