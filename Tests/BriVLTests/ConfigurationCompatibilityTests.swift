import Foundation
import Testing

@testable import BriVL

/// Configurations written before the backbone and the contrast became enums with associated values must still be
/// read, and written the same way, so that every checkpoint made so far loads.
@Suite("Configuration files of earlier versions")
struct ConfigurationCompatibilityTests {
    /// `model.json` of a `tiny` checkpoint written before the change, byte for byte.
    static let tinyModelJSON = #"""
{
  "image" : {
    "backbone" : "resnet",
    "grids" : [
      1,
      2,
      4
    ],
    "head" : {
      "dropout" : 0,
      "feed_forward_size" : 512,
      "head_count" : 4,
      "input_size" : 128,
      "layer_count" : 1,
      "projection_sizes" : [
        256,
        128
      ]
    },
    "image_size" : 64,
    "pooling" : "multi_grid_split",
    "resnet" : {
      "block" : "basic",
      "depths" : [
        1,
        1,
        1,
        1
      ],
      "input_channels" : 3,
      "stem" : "small",
      "stem_width" : 16,
      "widths" : [
        16,
        32,
        64,
        128
      ],
      "zero_initialize_residual_gains" : false
    },
    "samples_per_side" : 2
  },
  "initial_temperature" : 0.07,
  "maximum_logit_scale" : 100,
  "name" : "tiny",
  "text" : {
    "bert" : {
      "attention_probs_dropout_prob" : 0,
      "hidden_act" : "gelu",
      "hidden_dropout_prob" : 0,
      "hidden_size" : 128,
      "intermediate_size" : 512,
      "layer_norm_eps" : 1e-12,
      "max_position_embeddings" : 64,
      "num_attention_heads" : 2,
      "num_hidden_layers" : 2,
      "type_vocab_size" : 2,
      "vocab_size" : 21128
    },
    "head" : {
      "dropout" : 0,
      "feed_forward_size" : 512,
      "head_count" : 2,
      "input_size" : 128,
      "layer_count" : 1,
      "projection_sizes" : [
        256,
        128
      ]
    },
    "max_length" : 32
  }
}
"""#

    /// The image tower of `vit-tiny` as the earlier, flat layout wrote it (tag, empty grids, `cells`).
    static let vitTowerJSON = #"""
        {"backbone": "vit", "grids": [], "image_size": 64, "pooling": "cells", "samples_per_side": 0,
         "head": {"dropout": 0, "feed_forward_size": 1024, "head_count": 4, "input_size": 256, "layer_count": 0,
                  "projection_sizes": [256]},
         "vit": {"head_count": 4, "image_size": 64, "input_channels": 3, "layer_count": 4, "mlp_ratio": 4,
                 "patch_size": 8, "width": 256}}
        """#

    /// An in-batch objective as earlier versions wrote it: with every momentum setting beside it.
    static let inBatchObjectiveJSON = #"""
        {"batch_negatives": false, "contrast": "in_batch", "distillation": 0, "distillation_warmup_steps": 0,
         "fixed_temperature": 0.07, "learnable_temperature": true, "masked_language_model_weight": 0,
         "masking_probability": 0.15, "momentum": 0.99, "queue_size": 4096}
        """#

    static let brivlObjectiveJSON = #"""
        {"batch_negatives": false, "contrast": "momentum", "distillation": 0.4, "distillation_warmup_steps": 1000,
         "fixed_temperature": 0.07, "learnable_temperature": true, "masked_language_model_weight": 0,
         "masking_probability": 0.15, "momentum": 0.99, "queue_size": 4096}
        """#

    @Test("an earlier tiny model.json reads as the tiny preset and is written back byte for byte")
    func tinyModel() throws {
        let configuration = try BriVLConfiguration.decode(json: Data(Self.tinyModelJSON.utf8))
        #expect(configuration == .tiny)
        guard case .resnet(_, 64, .multiGridSplit(grids: [1, 2, 4], samplesPerSide: 2)) = configuration.image.backbone
        else {
            Issue.record("the tiny tower read as \(configuration.image.backbone)")
            return
        }
        #expect(String(decoding: try configuration.encodedJSON(), as: UTF8.self) == Self.tinyModelJSON)
    }

    @Test("an earlier ViT tower reads as vit-tiny's; its image size must agree with the ViT's")
    func vitTower() throws {
        let tower = try JSONDecoder().decode(ImageTowerConfiguration.self, from: Data(Self.vitTowerJSON.utf8))
        #expect(tower == BriVLConfiguration.vitTiny.image)
        #expect(tower.imageSize == 64 && tower.vit == .tiny && tower.resnet == nil)
        let again = try JSONDecoder().decode(ImageTowerConfiguration.self, from: JSONEncoder().encode(tower))
        #expect(again == tower)
        let mismatched = Self.vitTowerJSON.replacingOccurrences(of: #""image_size": 64, "pooling""#, with: #""image_size": 32, "pooling""#)
        #expect(mismatched != Self.vitTowerJSON)
        #expect(throws: ModelError.self) {
            try JSONDecoder().decode(ImageTowerConfiguration.self, from: Data(mismatched.utf8))
        }
    }

    @Test("every preset survives a round trip through its JSON")
    func presetsRoundTrip() throws {
        for preset in ModelPreset.allCases {
            let configuration = preset.configuration
            #expect(try BriVLConfiguration.decode(json: configuration.encodedJSON()) == configuration, "\(preset)")
        }
    }

    @Test("a CNN tower without region pooling keeps that choice through its JSON")
    func cellPooling() throws {
        var tower = BriVLConfiguration.tiny.image
        guard let resnet = tower.resnet else { throw ModelError.invalidConfiguration("tiny has no ResNet") }
        tower.backbone = .resnet(resnet, imageSize: 64, pooling: .cells)
        let again = try JSONDecoder().decode(ImageTowerConfiguration.self, from: JSONEncoder().encode(tower))
        #expect(again == tower)
    }

    @Test("earlier objective files read as the clip and brivl recipes; the momentum settings go with the contrast")
    func objectives() throws {
        let inBatch = try JSONDecoder().decode(ObjectiveConfiguration.self, from: Data(Self.inBatchObjectiveJSON.utf8))
        #expect(inBatch == Recipe.clip.objective)
        let brivl = try JSONDecoder().decode(ObjectiveConfiguration.self, from: Data(Self.brivlObjectiveJSON.utf8))
        #expect(brivl == Recipe.brivl.objective)
        #expect(brivl.contrast.momentumSettings?.queueSize == 4096)

        for recipe in Recipe.allCases {
            let objective = recipe.objective
            let json = try JSONEncoder().encode(objective)
            #expect(try JSONDecoder().decode(ObjectiveConfiguration.self, from: json) == objective, "\(recipe)")
            let keys = try #require(JSONSerialization.jsonObject(with: json) as? [String: Any]).keys
            #expect(keys.contains("queue_size") == (recipe != .clip), "\(recipe): \(keys.sorted())")
        }
    }
}
