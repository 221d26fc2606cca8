from django.urls import path

from apps.pricing.api import views

urlpatterns = [
    path("pricing/quote", views.QuoteApi.as_view(), name="pricing-quote"),
    path("pricing/rate-plans", views.RatePlanListCreateApi.as_view(), name="pricing-rate-plans"),
    path("pricing/rate-plans/<uuid:plan_id>", views.RatePlanDetailApi.as_view(), name="pricing-rate-plan"),
    path("pricing/rules", views.RuleListCreateApi.as_view(), name="pricing-rules"),
    path("pricing/rules/<uuid:rule_id>", views.RuleDetailApi.as_view(), name="pricing-rule"),
    path("pricing/promotions", views.PromotionListCreateApi.as_view(), name="pricing-promotions"),
    path("pricing/promotions/evaluate", views.PromotionEvaluateApi.as_view(), name="pricing-promotion-evaluate"),
    path("pricing/promotions/apply", views.PromotionApplyApi.as_view(), name="pricing-promotion-apply"),
    path("pricing/promotions/<uuid:promotion_id>", views.PromotionDetailApi.as_view(), name="pricing-promotion"),
    path("pricing/redemptions", views.RedemptionListApi.as_view(), name="pricing-redemptions"),
    path(
        "pricing/redemptions/<uuid:redemption_id>/release",
        views.RedemptionReleaseApi.as_view(),
        name="pricing-redemption-release",
    ),
]
