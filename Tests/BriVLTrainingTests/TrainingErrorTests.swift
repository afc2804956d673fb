import Testing

@testable import BriVLTraining

@Suite("Training errors")
struct TrainingErrorTests {
    @Test("messages name the kind of failure")
    func messages() {
        #expect(TrainingError.checkpoint("no step").description == "checkpoint: no step")
    }
}
